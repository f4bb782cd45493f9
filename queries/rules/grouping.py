"""One finding per etcd member and per node: the rules grade each signal on its own (fsync,
commit, quota; CPU, memory, disk, load), then the findings about one member or node merge
into one that carries all the evidence, so one problem reads as one finding."""

from __future__ import annotations

from dataclasses import replace

from k8stop.queries.model.finding import Component, Finding

# Whose findings merge per subject. Workloads are grouped by owner in their rule already.
MERGED_COMPONENTS = frozenset({Component.ETCD, Component.NODE})
MERGED_RULE = "merged_rule"  # label naming each rule folded into a finding


def rule_of(finding: Finding) -> str:
    return finding.id.split(":", 1)[0]


def rules_of(finding: Finding) -> frozenset[str]:
    """The rule of the finding and of every finding merged into it."""
    return frozenset({rule_of(finding), *finding.label_values(MERGED_RULE)})


def _what(rule: str) -> str:
    """'etcd.backend_commit_p99_slow' -> 'backend commit p99 slow', for a merged title."""
    return rule.split(".", 1)[-1].replace("_", " ")


def _advice(parts: list[Finding]) -> str:
    kept: list[str] = []
    for text in (f.recommendation for f in parts):
        if any(text in k for k in kept):
            continue
        kept = [k for k in kept if k not in text] + [text]
    return " ".join(kept)


def _merge(parts: list[Finding]) -> Finding:
    parts = sorted(parts, key=lambda f: (-f.severity, -f.magnitude, f.id))
    head, rest = parts[0], parts[1:]
    if not rest:
        return head
    seen = set()
    evidence = []
    for e in (e for f in parts for e in f.evidence):
        if (e.query, e.detail) not in seen:
            seen.add((e.query, e.detail))
            evidence.append(e)
    labels = tuple(
        dict.fromkeys((*(lab for f in parts for lab in f.labels), *((MERGED_RULE, rule_of(f)) for f in rest)))
    )
    return replace(
        head,
        title=f"{head.title}; also {', '.join(_what(rule_of(f)) for f in rest)}",
        evidence=tuple(evidence),
        recommendation=_advice(parts),
        labels=labels,
    )


def merge_by_subject(findings: list[Finding]) -> list[Finding]:
    """Findings of a merged component about the same subject become one, the most severe
    leading (its id is kept, so links and the UI still find it)."""
    groups: dict[tuple[Component, str], list[Finding]] = {}
    out: list[Finding | tuple[Component, str]] = []
    for f in findings:
        if f.component not in MERGED_COMPONENTS or f.caused_by is not None:
            out.append(f)
            continue
        key = (f.component, f.subject)
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append(f)
    return [_merge(groups[item]) if isinstance(item, tuple) else item for item in out]

"""The headless report: a snapshot's KPIs and findings as text, Markdown or stable JSON.

JSON schema (stable; documented in the README):
  generated_at: RFC 3339 UTC time the snapshot was taken
  cluster: {context, version}                 strings or null
  sources: {prometheus: {status, url, detail}, kube: {status, detail}}
  kpis: [{id, name, value, unit, target, status, detail}]   value in base units or null
  findings: [{id, component, subject, severity, title, evidence: [{query, value, detail}], recommendation,
              caused_by, symptoms}]  independent causes first, then the symptoms under their causes
  config: [{component, setting, value, recommended, status, source, detail}]   the tuning and sizing audit
Numbers are finite or null: NaN and +-Inf never reach the output.

Every format is made inert again on the way out (model/sanitize.py): facts are cleaned where
they are parsed, but a report is what lands in a terminal, a ticket or a chat, so no control,
C1 or bidi character from data is written even if a new source forgets to clean (orjson
escapes C0 in JSON but not C1 or bidi). Markdown also escapes what would make data a
heading, link, HTML or code span.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from k8stop.queries.audit.grade import grade
from k8stop.queries.config import Settings
from k8stop.queries.model.audit import ConfigCheck
from k8stop.queries.model.finding import Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.sanitize import clean
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceStatus, safe_url
from k8stop.queries.rules.advice import split_commands
from k8stop.queries.rules.diagnose import diagnose, importance, symptoms_of
from k8stop.queries.rules.kpis import Kpi, compute_kpis, fmt_target, fmt_value

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")
WIDTH = 100
FLEET_TOP = 10  # serious findings listed at the top of a fleet report, across clusters


@dataclass(frozen=True, slots=True)
class Report:
    snapshot: ClusterSnapshot
    kpis: tuple[Kpi, ...]
    findings: tuple[Finding, ...]  # most important first
    config: tuple[ConfigCheck, ...] = ()  # the tuning and sizing audit, in table order
    cluster: str | None = None  # the fleet cluster it covers (--cluster, or one of a fleet report)


@dataclass(frozen=True, slots=True)
class FleetReport:
    """One report per cluster of a fleet backend (each made with its cluster-scoped settings)."""

    label: str
    reports: tuple[Report, ...]  # worst cluster first (the one holding the top finding)

    def findings(self) -> tuple[tuple[Report, Finding], ...]:
        """Every cluster's findings ranked together by the rules of diagnose.rank: independent
        causes first (severity, then magnitude), then the symptoms in their causes' order."""
        roots = sorted(
            ((r, f) for r in self.reports for f in r.findings if f.caused_by is None),
            key=lambda rf: (*importance(rf[1]), rf[0].cluster or ""),
        )
        out = list(roots)
        for report, root in roots:
            out.extend((report, f) for f in symptoms_of(report.findings, root))
        placed = {(id(r), f.id) for r, f in out}
        return (*out, *((r, f) for r in self.reports for f in r.findings if (id(r), f.id) not in placed))


def make_report(snap: ClusterSnapshot, settings: Settings) -> Report:
    t = settings.thresholds
    return Report(snap, compute_kpis(snap, t), diagnose(snap, settings), grade(snap, t), settings.cluster)


def make_fleet_report(label: str, reports: list[Report]) -> FleetReport:
    """Clusters ordered by their top finding (as FleetReport.findings ranks), healthy ones by name."""
    ranked = [(importance(r.findings[0]) if r.findings else (1, 0.0, ""), r.cluster or "", r) for r in reports]
    return FleetReport(label, tuple(r for *_, r in sorted(ranked, key=lambda x: x[:2])))


def render(report: Report | FleetReport, fmt: Format) -> str:
    if fmt == "text":
        return render_text(report) if isinstance(report, Report) else render_fleet_text(report)
    if fmt == "markdown":
        return render_markdown(report) if isinstance(report, Report) else render_fleet_markdown(report)
    if fmt == "json":
        return render_json(report)
    raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")


# --- JSON -------------------------------------------------------------------------------


def _finite(x: float | None) -> float | None:
    """JSON numbers are always floats, and never NaN or Inf (invalid JSON)."""
    return float(x) if x is not None and math.isfinite(x) else None


def _evidence_value(value: float | str | None) -> float | str | None:
    return value if isinstance(value, str) else _finite(value)


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sources_dict(snap: ClusterSnapshot) -> dict[str, Any]:
    return {
        "prometheus": {
            "status": str(snap.prometheus.state),
            "url": safe_url(snap.prometheus.url),
            "detail": snap.prometheus.detail,
        },
        "kube": {"status": str(snap.kube.state), "detail": snap.kube.detail},
    }


def report_dict(report: Report | FleetReport) -> dict[str, Any]:
    if isinstance(report, FleetReport):
        return _fleet_dict(report)
    snap = report.snapshot
    return {
        "generated_at": rfc3339(snap.taken_at),
        "cluster": {"context": snap.context, "version": snap.version},
        "sources": _sources_dict(snap),
        "kpis": _kpis(report),
        "findings": [_finding(report, f) for f in report.findings],
        "config": _config(report),
        "fleet": None,
    }


def _fleet_dict(fleet: FleetReport) -> dict[str, Any]:
    first = fleet.reports[0].snapshot
    return {
        "generated_at": rfc3339(max(r.snapshot.taken_at for r in fleet.reports)),
        "cluster": {"context": None, "version": None},
        # The fleet's sources are the first cluster's (one backend); each cluster's are in `fleet`.
        "sources": _sources_dict(first),
        "kpis": [k for r in fleet.reports for k in _kpis(r)],
        "findings": [_finding(r, f) for r, f in fleet.findings()],
        "config": [c for r in fleet.reports for c in _config(r)],
        "fleet": {
            "label": fleet.label,
            "clusters": [
                {
                    "name": r.cluster,
                    "context": r.snapshot.context or None,
                    "version": r.snapshot.version or None,
                    "sources": _sources_dict(r.snapshot),
                }
                for r in fleet.reports
            ],
        },
    }


def _kpis(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "cluster": report.cluster,
            "id": k.id,
            "name": k.name,
            "value": _finite(k.value.or_none()),
            "unit": k.unit,
            "target": k.target,
            "status": k.status.kpi_word,
            "detail": k.detail,
        }
        for k in report.kpis
    ]


def _finding(report: Report, f: Finding) -> dict[str, Any]:
    return {
        "cluster": report.cluster,
        "id": f.id,
        "component": str(f.component),
        "subject": f.subject,
        "severity": f.severity.severity_word,
        "title": f.title,
        "evidence": [{"query": e.query, "value": _evidence_value(e.value), "detail": e.detail} for e in f.evidence],
        "recommendation": f.recommendation,
        "caused_by": f.caused_by,
        "symptoms": list(f.symptoms),
    }


def _config(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "cluster": report.cluster,
            "component": c.component,
            "setting": c.setting,
            "value": c.value,
            "recommended": c.recommended,
            "status": str(c.status),
            "source": c.source,
            "detail": c.detail,
        }
        for c in report.config
    ]


def _inert(data: Any) -> Any:
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, dict):
        return {key: _inert(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_inert(item) for item in data]
    return data


def render_json(report: Report | FleetReport) -> str:
    return orjson.dumps(_inert(report_dict(report)), option=orjson.OPT_INDENT_2).decode() + "\n"


# --- shared text pieces -----------------------------------------------------------------


def _evidence_text(value: float | str | None) -> str:
    if isinstance(value, str):
        return value
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.4g}"


def _summary(report: Report) -> str:
    severities = Counter(f.severity.severity_word for f in report.findings)
    statuses = Counter(k.status.kpi_word for k in report.kpis)
    findings = ", ".join(f"{severities[s]} {s}" for s in ("critical", "warning", "info"))
    kpis = ", ".join(f"{statuses[s]} {s}" for s in ("fail", "warn", "ok", "unknown"))
    return f"Findings: {findings}. KPIs: {kpis}."


def _source_line(name: str, source: SourceStatus) -> str:
    parts = [f"{name}: {source.state}"]
    url = safe_url(source.url)
    if url:
        parts.append(url)
    if source.detail:
        parts.append(source.detail)
    return " - ".join(parts)


def _feed_lines(snap: ClusterSnapshot) -> list[str]:
    # A source that is down fails every feed with its own reason: say it once, on the source line.
    said = {snap.prometheus.detail, snap.kube.detail} - {""}
    return [
        f"feed {name}: {status.state}"
        + (f" - {status.reason}" if status.reason and status.reason not in said else "")
        + (f" - {_node_naming(snap)}" if name == "nodes" and _node_naming(snap) else "")
        for name, status in snap.feeds
    ]


def _node_naming(snap: ClusterSnapshot) -> str:
    """How the nodes feed named its nodes ("node names from node_uname_info"): a wrong join shows."""
    return snap.nodes.naming if snap.nodes is not None else ""


def _header(report: Report) -> str:
    snap = report.snapshot
    cluster = f"cluster {report.cluster}, context " if report.cluster else ""
    return (
        f"k8stop report for {cluster}{snap.context or 'unknown context'} "
        f"(Kubernetes {snap.version or 'version unknown'}) at {rfc3339(snap.taken_at)}"
    )


def _first_symptom(report: Report, f: Finding) -> bool:
    """Symptoms follow every independent cause: the first one opens their section."""
    return f.caused_by is not None and next(g for g in report.findings if g.caused_by is not None) is f


def _audit_missing(snap: ClusterSnapshot) -> str:
    status = snap.feed("audit")
    if status is None:
        return "no audit in this snapshot (recorded before the audit existed, or not collected)"
    return status.reason or str(status.state)


# --- text -------------------------------------------------------------------------------


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [first or indent]


def render_text(report: Report) -> str:
    snap = report.snapshot
    lines = [*_wrap(_header(report), ""), *_wrap(_summary(report), ""), "", "SOURCES"]
    for line in (_source_line("prometheus", snap.prometheus), _source_line("kube", snap.kube)):
        lines.extend(_wrap(line, "    ", "  "))
    for line in _feed_lines(snap):
        lines.extend(_wrap(line, "      ", "    "))
    lines += ["", "FINDINGS"]
    if not report.findings:
        lines.append("  none")
    for n, f in enumerate(report.findings, 1):
        if _first_symptom(report, f):
            lines += ["", "SYMPTOMS (each explained by a finding above)"]
        lines.extend(
            _wrap(f"{n}. [{f.severity.severity_word.upper()}] {f.component} {f.subject}: {f.title}", "     ", "  ")
        )
        for e in f.evidence:
            detail = f" - {e.detail}" if e.detail else ""
            lines.extend(_wrap(f"{_evidence_text(e.value)}{detail}", "       ", "     * "))
            lines.extend(_wrap(e.query, "         ", "       from "))
        prose, commands = split_commands(f.recommendation)
        lines.extend(_wrap(f"Fix: {prose}", "       ", "     "))
        # Commands go on their own lines, unwrapped, so they can be copied whole.
        lines.extend(f"       [cmd {i}] {command}" for i, command in enumerate(commands, 1))
        if f.symptoms:
            lines.extend(_wrap(f"Symptoms: {', '.join(f.symptoms)}", "       ", "     "))
    lines += ["", "KPIS"]
    for k in report.kpis:
        head = f"  {k.status.kpi_word.upper():<8}{k.id:<36}{fmt_value(k.value, k.unit):>14}  target {fmt_target(k)}"
        lines.extend(_wrap(head, "  "))
        lines.extend(_wrap(k.detail, "            "))
    lines += ["", "CONFIG (tuning and sizing audit)"]
    if not report.config:
        lines.append(f"  not run: {_audit_missing(snap)}")
    for c in report.config:
        lines.extend(_wrap(f"{c.status.upper():<15}{c.component} {c.setting}: {c.value or '-'}", "    ", "  "))
        lines.extend(_wrap(f"recommended {c.recommended}; source {c.source}", "      ", "    "))
        lines.extend(_wrap(c.detail, "      ", "    "))
    return clean("\n".join(lines) + "\n")


def _fleet_summary(fleet: FleetReport) -> tuple[str, list[tuple[Report, Finding]]]:
    """The fleet's headline, and its serious findings across clusters, most important first."""
    taken = rfc3339(max(r.snapshot.taken_at for r in fleet.reports))
    counts = Counter(f.severity.severity_word for r in fleet.reports for f in r.findings)
    head = (
        f"k8stop fleet report: {len(fleet.reports)} clusters (label {fleet.label}) at {taken}. "
        f"Findings: {', '.join(f'{counts[s]} {s}' for s in ('critical', 'warning', 'info'))}."
    )
    return head, [(r, f) for r, f in fleet.findings() if f.severity > Level.INFO]


def render_fleet_text(fleet: FleetReport) -> str:
    """The fleet's top findings, then each cluster's own report under its name, worst first."""
    head, serious = _fleet_summary(fleet)
    lines = [*_wrap(head, ""), "", "TOP FINDINGS ACROSS THE FLEET"]
    if not serious:
        lines.append("  none")
    for n, (r, f) in enumerate(serious[:FLEET_TOP], 1):
        line = f"{n}. [{f.severity.severity_word.upper()}] cluster {r.cluster}: {f.component} {f.subject}: {f.title}"
        lines.extend(_wrap(line, "     ", "  "))
    for r in fleet.reports:
        lines += ["", "=" * WIDTH, f"CLUSTER {r.cluster}", "=" * WIDTH, render_text(r).rstrip("\n")]
    return clean("\n".join(lines) + "\n")


# --- Markdown ---------------------------------------------------------------------------


# Backslash escapes are CommonMark's literal characters. Data never starts a line (newlines
# become spaces), so only what acts inside a line is escaped: [ ] link and image text, < that
# opens HTML or an autolink (not "< 25 ms"), & that opens an entity (`&#27;` decodes to ESC),
# ` code spans, # closing a heading, | table cells, and the backslash itself.
_MD_SPECIAL = re.compile(r"([\\`\[\]#|]|<(?=[A-Za-z/!?])|&(?=[A-Za-z#]))")


def _md(text: str) -> str:
    """Data as literal Markdown text, on one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def _code(text: str) -> str:
    """Data as a code span: a fence longer than any backtick run inside, so it cannot close
    early; | escaped, which GFM tables need even inside code."""
    text = " ".join(text.splitlines()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(report: Report) -> str:
    snap = report.snapshot
    out = [f"# {_md(_header(report))}", "", "## Summary", "", _summary(report), ""]
    serious = [f for f in report.findings if f.severity > Level.INFO]
    for f in serious[:3]:
        out.append(f"- **{f.severity.severity_word}** {_md(f.title)}")
    if len(serious) > 3:
        out.append(f"- ... and {len(serious) - 3} more warning or critical findings below")
    out += ["", "## Sources", ""]
    for line in (_source_line("prometheus", snap.prometheus), _source_line("kube", snap.kube), *_feed_lines(snap)):
        out.append(f"- {_md(line)}")
    out += ["", "## Findings", ""]
    if not report.findings:
        out += ["No findings.", ""]
    for n, f in enumerate(report.findings, 1):
        if _first_symptom(report, f):
            out += ["## Symptoms", "", "Each is explained by a finding above: fix that first.", ""]
        out += [
            f"### {n}. [{f.severity.severity_word}] {_md(f.title)}",
            "",
            f"Component: {_code(str(f.component))}, subject: {_code(f.subject)}, id: {_code(f.id)}"
            + (f", caused by: {_code(f.caused_by)}" if f.caused_by else ""),
            "",
            "| Query | Value | Detail |",
            "|---|---|---|",
            *(f"| {_code(e.query)} | {_md(_evidence_text(e.value))} | {_md(e.detail)} |" for e in f.evidence),
            "",
            f"**Recommendation:** {_md(f.recommendation)}",
            "",
            *([f"Symptoms: {', '.join(_code(i) for i in f.symptoms)}", ""] if f.symptoms else []),
        ]
    out += ["## KPIs", "", "| KPI | Value | Target | Status | Detail |", "|---|---|---|---|---|"]
    for k in report.kpis:
        out.append(
            f"| {_md(k.name)} ({_code(k.id)}) | {_md(fmt_value(k.value, k.unit))} | {_md(fmt_target(k))} "
            f"| {k.status.kpi_word} | {_md(k.detail)} |"
        )
    out += ["", "## Config (tuning and sizing audit)", ""]
    if not report.config:
        out.append(f"Not run: {_md(_audit_missing(snap))}")
    else:
        out += [
            "| Component | Setting | Value | Recommended | Status | Source | Detail |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in report.config:
            out.append(
                f"| {_md(c.component)} | {_code(c.setting)} | {_md(c.value or '-')} | {_md(c.recommended)} "
                f"| {c.status} | {_md(c.source)} | {_md(c.detail)} |"
            )
    return clean("\n".join(out) + "\n")


def render_fleet_markdown(fleet: FleetReport) -> str:
    head, serious = _fleet_summary(fleet)
    out = ["# k8stop fleet report", "", _md(head), ""]
    for r, f in serious[:FLEET_TOP]:
        out.append(f"- **{f.severity.severity_word}** cluster {_code(r.cluster or '')}: {_md(f.title)}")
    for r in fleet.reports:
        out += ["", f"## Cluster {_md(r.cluster or '')}", ""]
        # Each cluster's report one heading level down, under its cluster's heading.
        out += [f"##{line}" if line.startswith("#") else line for line in render_markdown(r).splitlines()]
    return clean("\n".join(out) + "\n")

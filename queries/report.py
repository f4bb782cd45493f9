"""The headless report: a snapshot's KPIs and findings as text, Markdown or stable JSON.

JSON schema (stable; documented in the README):
  generated_at: RFC 3339 UTC time the snapshot was taken
  cluster: {context, version}                 strings or null
  sources: {prometheus: {status, url, detail}, kube: {status, detail}}
  kpis: [{id, name, value, unit, target, status, detail}]   value in base units or null
  findings: [{id, component, subject, severity, title, evidence: [{query, value}], recommendation}]
  config: [{component, setting, value, recommended, status, source, detail}]   the tuning and sizing audit
Numbers are finite or null: NaN and +-Inf never reach the output.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from k8stop.queries.audit.grade import grade
from k8stop.queries.config import Thresholds
from k8stop.queries.model.audit import ConfigCheck
from k8stop.queries.model.finding import Finding
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceStatus, public_url
from k8stop.queries.rules.diagnose import diagnose
from k8stop.queries.rules.kpis import Kpi, compute_kpis, fmt_target, fmt_value

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")
WIDTH = 100


@dataclass(frozen=True, slots=True)
class Report:
    snapshot: ClusterSnapshot
    kpis: tuple[Kpi, ...]
    findings: tuple[Finding, ...]  # most important first
    config: tuple[ConfigCheck, ...] = ()  # the tuning and sizing audit, in table order


def make_report(snap: ClusterSnapshot, thresholds: Thresholds) -> Report:
    return Report(snap, compute_kpis(snap, thresholds), diagnose(snap, thresholds), grade(snap, thresholds))


def render(report: Report, fmt: Format) -> str:
    if fmt == "text":
        return render_text(report)
    if fmt == "markdown":
        return render_markdown(report)
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


def report_dict(report: Report) -> dict[str, Any]:
    snap = report.snapshot
    return {
        "generated_at": rfc3339(snap.taken_at),
        "cluster": {"context": snap.context, "version": snap.version},
        "sources": {
            "prometheus": {
                "status": str(snap.prometheus.state),
                "url": public_url(snap.prometheus.url),
                "detail": snap.prometheus.detail,
            },
            "kube": {"status": str(snap.kube.state), "detail": snap.kube.detail},
        },
        "kpis": [
            {
                "id": k.id,
                "name": k.name,
                "value": _finite(k.value.or_none()),
                "unit": k.unit,
                "target": k.target,
                "status": str(k.status),
                "detail": k.detail,
            }
            for k in report.kpis
        ],
        "findings": [
            {
                "id": f.id,
                "component": str(f.component),
                "subject": f.subject,
                "severity": str(f.severity),
                "title": f.title,
                "evidence": [{"query": e.query, "value": _evidence_value(e.value)} for e in f.evidence],
                "recommendation": f.recommendation,
            }
            for f in report.findings
        ],
        "config": [
            {
                "component": c.component,
                "setting": c.setting,
                "value": c.value,
                "recommended": c.recommended,
                "status": str(c.status),
                "source": c.source,
                "detail": c.detail,
            }
            for c in report.config
        ],
    }


def render_json(report: Report) -> str:
    return orjson.dumps(report_dict(report), option=orjson.OPT_INDENT_2).decode() + "\n"


# --- shared text pieces -----------------------------------------------------------------


def _evidence_text(value: float | str | None) -> str:
    if isinstance(value, str):
        return value
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.4g}"


def _summary(report: Report) -> str:
    severities = Counter(str(f.severity) for f in report.findings)
    statuses = Counter(str(k.status) for k in report.kpis)
    findings = ", ".join(f"{severities[s]} {s}" for s in ("critical", "warning", "info"))
    kpis = ", ".join(f"{statuses[s]} {s}" for s in ("fail", "warn", "ok", "unknown"))
    return f"Findings: {findings}. KPIs: {kpis}."


def _source_line(name: str, source: SourceStatus) -> str:
    parts = [f"{name}: {source.state}"]
    url = public_url(source.url)
    if url:
        parts.append(url)
    if source.detail:
        parts.append(source.detail)
    return " - ".join(parts)


def _feed_lines(snap: ClusterSnapshot) -> list[str]:
    # A source that is down fails every feed with its own reason: say it once, on the source line.
    said = {snap.prometheus.detail, snap.kube.detail} - {""}
    return [
        f"feed {name}: {status.state}" + (f" - {status.reason}" if status.reason and status.reason not in said else "")
        for name, status in snap.feeds
    ]


def _header(snap: ClusterSnapshot) -> str:
    return (
        f"k8stop report for {snap.context or 'unknown context'} "
        f"(Kubernetes {snap.version or 'version unknown'}) at {rfc3339(snap.taken_at)}"
    )


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
    lines = [*_wrap(_header(snap), ""), *_wrap(_summary(report), ""), "", "SOURCES"]
    for line in (_source_line("prometheus", snap.prometheus), _source_line("kube", snap.kube)):
        lines.extend(_wrap(line, "    ", "  "))
    for line in _feed_lines(snap):
        lines.extend(_wrap(line, "      ", "    "))
    lines += ["", "FINDINGS"]
    if not report.findings:
        lines.append("  none")
    for n, f in enumerate(report.findings, 1):
        lines.extend(_wrap(f"{n}. [{f.severity.upper()}] {f.component} {f.subject}: {f.title}", "     ", "  "))
        for e in f.evidence:
            detail = f" - {e.detail}" if e.detail else ""
            lines.extend(_wrap(f"{_evidence_text(e.value)}{detail}", "       ", "     * "))
            lines.extend(_wrap(e.query, "         ", "       from "))
        lines.extend(_wrap(f"Fix: {f.recommendation}", "       ", "     "))
    lines += ["", "KPIS"]
    for k in report.kpis:
        head = f"  {k.status.upper():<8}{k.id:<36}{fmt_value(k.value, k.unit):>14}  target {fmt_target(k)}"
        lines.extend(_wrap(head, "  "))
        lines.extend(_wrap(k.detail, "            "))
    lines += ["", "CONFIG (tuning and sizing audit)"]
    if not report.config:
        lines.append(f"  not run: {_audit_missing(snap)}")
    for c in report.config:
        lines.extend(_wrap(f"{c.status.upper():<15}{c.component} {c.setting}: {c.value or '-'}", "    ", "  "))
        lines.extend(_wrap(f"recommended {c.recommended}; source {c.source}", "      ", "    "))
        lines.extend(_wrap(c.detail, "      ", "    "))
    return "\n".join(lines) + "\n"


# --- Markdown ---------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    snap = report.snapshot
    out = [f"# {_header(snap)}", "", "## Summary", "", _summary(report), ""]
    serious = [f for f in report.findings if str(f.severity) != "info"]
    for f in serious[:3]:
        out.append(f"- **{f.severity}** {_cell(f.title)}")
    if len(serious) > 3:
        out.append(f"- ... and {len(serious) - 3} more warning or critical findings below")
    out += ["", "## Sources", ""]
    for line in (_source_line("prometheus", snap.prometheus), _source_line("kube", snap.kube), *_feed_lines(snap)):
        out.append(f"- {line}")
    out += ["", "## Findings", ""]
    if not report.findings:
        out += ["No findings.", ""]
    for n, f in enumerate(report.findings, 1):
        out += [
            f"### {n}. [{f.severity}] {f.title}",
            "",
            f"Component: `{f.component}`, subject: `{f.subject}`, id: `{f.id}`"
            + (f", caused by: `{f.caused_by}`" if f.caused_by else ""),
            "",
            "| Query | Value | Detail |",
            "|---|---|---|",
            *(f"| `{_cell(e.query)}` | {_cell(_evidence_text(e.value))} | {_cell(e.detail)} |" for e in f.evidence),
            "",
            f"**Recommendation:** {f.recommendation}",
            "",
        ]
    out += ["## KPIs", "", "| KPI | Value | Target | Status | Detail |", "|---|---|---|---|---|"]
    for k in report.kpis:
        out.append(
            f"| {_cell(k.name)} (`{k.id}`) | {_cell(fmt_value(k.value, k.unit))} | {_cell(fmt_target(k))} "
            f"| {k.status} | {_cell(k.detail)} |"
        )
    out += ["", "## Config (tuning and sizing audit)", ""]
    if not report.config:
        out.append(f"Not run: {_cell(_audit_missing(snap))}")
    else:
        out += [
            "| Component | Setting | Value | Recommended | Status | Source | Detail |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in report.config:
            out.append(
                f"| {_cell(c.component)} | `{_cell(c.setting)}` | {_cell(c.value or '-')} | {_cell(c.recommended)} "
                f"| {c.status} | {_cell(c.source)} | {_cell(c.detail)} |"
            )
    return "\n".join(out) + "\n"

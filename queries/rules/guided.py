"""The guided diagnosis as data: the seed's walk from the control plane to the workloads, each
step with its KPIs, its findings, a verdict and what to check next. No Textual: the TUI draws it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from k8stop.queries.model.finding import Component, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.private_files import PrivateFileError, write_private
from k8stop.queries.report import Report, render
from k8stop.queries.rules.kpis import Kpi


@dataclass(frozen=True, slots=True)
class Step:
    title: str
    components: frozenset[Component]
    kpi_prefixes: tuple[str, ...]  # KPI ids of this step start with one of these


# Cause before symptom: the seed's order, from what everything depends on outwards.
STEPS: tuple[Step, ...] = (
    Step("Control plane: API server", frozenset({Component.APISERVER}), ("apiserver.",)),
    Step("etcd", frozenset({Component.ETCD}), ("etcd.",)),
    Step(
        "Scheduler and controllers",
        frozenset({Component.SCHEDULER, Component.CONTROLLER_MANAGER}),
        ("scheduler.", "controller."),
    ),
    Step("Nodes", frozenset({Component.NODE, Component.KUBELET, Component.NETWORK}), ("node.", "kubelet.")),
    Step("Workloads", frozenset({Component.WORKLOAD, Component.OTHER}), ("workload.",)),
)


def clip(text: str, width: int) -> str:
    """One line of at most `width` characters, an ellipsis marking the cut."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


@dataclass(frozen=True, slots=True)
class StepResult:
    step: Step
    kpis: tuple[Kpi, ...]
    findings: tuple[Finding, ...]  # most important first, as the report ranks them

    @property
    def verdict(self) -> Level | None:
        """The worst finding's severity; None (ok) when only info or nothing was found."""
        worst = max((f.severity for f in self.findings), default=None)
        return None if worst is None or worst <= Level.INFO else worst

    def verdict_line(self, width: int = 78) -> str:
        """One line (it fits `width`): the verdict and the most important finding; the rest is below."""
        return clip(self._verdict(), width)

    def _verdict(self) -> str:
        failing = [k for k in self.kpis if k.status in (Level.FAIL, Level.WARN)]
        if self.verdict is None:
            unknown = [k for k in self.kpis if k.status is Level.UNKNOWN]
            if self.kpis and len(unknown) == len(self.kpis) and not self.findings:
                # Nothing measured is not "ok": say so, with the first reason.
                return f"UNKNOWN: no data for this step ({unknown[0].detail})"
            tail = f" ({len(unknown)} KPI unknown)" if unknown else ""
            return f"OK: no warning or critical finding{tail}"
        serious = [f for f in self.findings if f.severity is not Level.INFO]
        more = f" (+{len(serious) - 1} more below)" if len(serious) > 1 else ""
        kpis = f" ({len(failing)} KPI off target)" if failing else ""
        return f"{self.verdict.severity_word.upper()}: {serious[0].title}{more}{kpis}"

    def next_checks(self) -> tuple[str, ...]:
        """The recommendations of the serious findings, each once, most important first."""
        seen: list[str] = []
        for f in self.findings:
            if f.severity is not Level.INFO and f.recommendation not in seen:
                seen.append(f.recommendation)
        return tuple(seen)


def walk(report: Report) -> tuple[StepResult, ...]:
    """Every finding lands in exactly one step: its component's."""
    return tuple(
        StepResult(
            step,
            tuple(k for k in report.kpis if k.id.startswith(step.kpi_prefixes)),
            tuple(f for f in report.findings if f.component in step.components),
        )
        for step in STEPS
    )


EXPORT_ATTEMPTS = 20  # names tried when earlier exports of the same moment exist


def report_filename(context: str | None, at: float) -> str:
    """k8stop-report-<context>-<timestamp>.md, the context made safe for a file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", context or "cluster").strip("_") or "cluster"
    return f"k8stop-report-{safe}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(at))}.md"


def export_markdown(report: Report, directory: Path) -> Path:
    """A new 0600 file; exporting the same snapshot again adds -2, -3...; a symlink planted
    at the name is refused (PrivateFileError says so), never written through."""
    name = report_filename(report.snapshot.context, report.snapshot.taken_at)
    text = render(report, "markdown")
    path = directory / name
    for n in range(2, EXPORT_ATTEMPTS + 1):
        try:
            write_private(path, text)
            return path
        except PrivateFileError:
            if path.is_symlink() or not path.exists():
                raise
        path = directory / name.replace(".md", f"-{n}.md")
    write_private(path, text)
    return path

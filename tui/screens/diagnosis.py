"""The guided diagnosis: API server -> etcd -> scheduler and controllers -> nodes -> workloads,
then a summary; `x` writes the Markdown report (only when asked; the path is shown).

Each step shows its KPIs and findings with their values, a verdict and what to check next.
Enter on an evidence line opens its drill-down; Esc there comes back to the same step. The
snapshot is the app's latest updates, so the session works live and in replays alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from k8stop.queries.feeds.registry import SNAPSHOT_FEEDS
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.keys import ApiKey, EtcdKey, NodeKey, PodKey
from k8stop.queries.model.level import Level
from k8stop.queries.report import Report, make_report
from k8stop.queries.rules.advice import split_commands
from k8stop.queries.rules.alerts import is_alert_evidence
from k8stop.queries.rules.guided import StepResult, export_markdown, report_filename, walk
from k8stop.queries.rules.kpis import fmt_target, fmt_value
from k8stop.tui.screens.api_detail import ApiDetailScreen
from k8stop.tui.screens.control_plane import ControlPlaneScreen
from k8stop.tui.screens.etcd_member import EtcdMemberScreen
from k8stop.tui.screens.kpi_screen import KpiScreen
from k8stop.tui.screens.node_detail import NodeScreen
from k8stop.tui.screens.pod_detail import PodScreen
from k8stop.tui.screens.sub_screen import SubScreen
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    pass

KPI_GLYPH = {Level.OK: "●", Level.WARN: "▲", Level.FAIL: "✖", Level.UNKNOWN: "?"}
KPIS_OPTION = "kpis"


def drill_for(finding: Finding) -> Screen[None]:
    """The drill-down that shows a finding's evidence over time; the KPI scorecard otherwise."""
    if finding.id.startswith("config."):  # an audit finding: its row in the :config screen
        from k8stop.tui.screens.config_screen import ConfigScreen

        return ConfigScreen(select=finding.id)
    verbs, resources = finding.label_values("verb"), finding.label_values("resource")
    members, nodes = finding.label_values("etcd_member"), finding.label_values("node")
    if finding.component is Component.APISERVER and verbs and resources:
        return ApiDetailScreen(ApiKey(verbs[0], resources[0]))
    if finding.component is Component.ETCD and members:
        return EtcdMemberScreen(EtcdKey(members[0]))
    if finding.component is Component.WORKLOAD and "/" in finding.subject:
        namespace, _, pod = finding.subject.partition("/")
        return PodScreen(PodKey(namespace, pod))
    if nodes:
        return NodeScreen(NodeKey(nodes[0]))
    if finding.component in (Component.SCHEDULER, Component.CONTROLLER_MANAGER):
        return ControlPlaneScreen()
    return KpiScreen()


class DiagnosisScreen(SubScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Close"),
        Binding("n,right", "step(1)", "Next"),
        Binding("b,left", "step(-1)", "Prev"),
        Binding("r", "recompute", "Recompute"),
        Binding("x", "export", "Write report"),
    ]
    DEFAULT_CSS = """
    DiagnosisScreen #verdict { height: auto; padding: 0 1; text-style: bold; }
    DiagnosisScreen #verdict.critical { color: $error; text-style: bold underline; }
    DiagnosisScreen #verdict.warning { color: $warning; }
    DiagnosisScreen #verdict.ok { color: $success; }
    DiagnosisScreen #evidence { height: auto; max-height: 60%; border: none; padding: 0 1; }
    DiagnosisScreen #next-scroll { height: 1fr; overflow-x: auto; }
    DiagnosisScreen #next { height: auto; padding: 0 1; }
    DiagnosisScreen #commands { height: auto; width: auto; padding: 0 1; }
    """

    def __init__(self, start_step: int = 0) -> None:
        super().__init__()
        self.step = start_step  # index into the steps; len(steps) is the summary
        self.report: Report | None = None
        self.results: tuple[StepResult, ...] = ()
        self.exported: Path | None = None
        self.export_dir = Path.cwd()
        self._options: dict[str, Finding] = {}

    def compose(self) -> ComposeResult:
        # Findings quote alert summaries, pod and node names ("Filesystem [/var/lib/etcd] is
        # 91% full"): every line here is data, never markup.
        yield Static(id="title", markup=False)
        yield Static(id="verdict", markup=False)
        yield OptionList(id="evidence", markup=False)
        with VerticalScroll(id="next-scroll"):
            yield Static(id="next", markup=False)
            yield Static(id="commands", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_recompute()
        self.query_one("#evidence").focus()
        if not self.complete:
            self._waiting = self.set_interval(1.0, self._until_complete)

    @property
    def complete(self) -> bool:
        """Every feed has answered once (ok, failed or off): the verdicts are not premature."""
        return all(feed in self.k8stop.latest for feed in SNAPSHOT_FEEDS)

    def _until_complete(self) -> None:
        self.action_recompute()
        if self.complete:
            self._waiting.stop()

    # --- data -------------------------------------------------------------------------------

    def action_recompute(self) -> None:
        """A fresh snapshot of the latest updates; the user stays on the same step."""
        self.report = make_report(self.k8stop.snapshot(), self.k8stop.settings)
        self.results = walk(self.report)
        self._show()

    # --- navigation -------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        self.step = max(0, min(len(self.results), self.step + delta))
        self._show()

    @property
    def at_summary(self) -> bool:
        return self.step >= len(self.results)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or ""
        finding = self._options.get(key)
        self.app.push_screen(drill_for(finding) if finding is not None else KpiScreen())

    def action_export(self) -> None:
        if self.report is None:
            return
        try:
            self.exported = export_markdown(self.report, self.export_dir)
        except OSError as exc:
            self.notify(f"could not write the report: {exc}", severity="error", markup=False)
            return
        self.notify(f"report written to {self.exported}", markup=False)
        self._show()

    # --- drawing ----------------------------------------------------------------------------

    def _show(self) -> None:
        total = len(self.results)
        options = self.query_one("#evidence", OptionList)
        options.clear_options()
        self._options = {}
        verdict = self.query_one("#verdict", Static)
        verdict.remove_class("critical", "warning", "ok")
        if self.at_summary:
            self.query_one("#title", Static).update("Diagnosis › summary   (b back, x write report, esc close)")
            self._show_summary(options, verdict)
            return
        result = self.results[self.step]
        self.query_one("#title", Static).update(
            f"Diagnosis {self.step + 1}/{total} › {result.step.title}   (n next, b back, enter opens, esc close)"
        )
        verdict.add_class(result.verdict.severity_word if result.verdict is not None else "ok")
        missing = [feed for feed in SNAPSHOT_FEEDS if feed not in self.k8stop.latest]
        waiting = f"waiting for {', '.join(missing)}… " if missing else ""
        verdict.update(waiting + result.verdict_line())
        for n, f in enumerate(result.findings):
            self._add_finding(options, f"f{n}", f)
        for k in result.kpis:
            options.add_option(
                Option(
                    f"{KPI_GLYPH[k.status]} {k.name}: {fmt_value(k.value, k.unit)} (target {fmt_target(k)})",
                    id=f"{KPIS_OPTION}:{k.id}",
                )
            )
        options.highlighted = 0 if options.option_count else None
        checks = [split_commands(c) for c in result.next_checks()]
        lines = (
            ["Check next:", *(f"• {prose}" for prose, _ in checks)]
            if checks
            else ["Check next: nothing here; continue with n."]
        )
        lines += ["", *(f"  {k.id}: {k.detail}" for k in result.kpis if k.status is not Level.OK)]
        self.query_one("#next", Static).update(Text("\n".join(lines).rstrip()))
        self._show_commands([command for _, commands in checks for command in commands])

    def _show_commands(self, commands: list[str]) -> None:
        """Each command on one unwrapped line (the pane scrolls sideways), to be copied whole."""
        text = Text(no_wrap=True, overflow="ignore")
        if commands:
            text.append("Commands (scroll right; copied whole):\n")
            for n, command in enumerate(commands, 1):
                text.append(f"[cmd {n}] {command}\n")
        self.query_one("#commands", Static).update(text)

    def _add_finding(self, options: OptionList, key: str, f: Finding) -> None:
        # The title already carries the headline number; the evidence line says what backs it.
        # A firing alert on the same subject always shows: the cluster's own rules agree.
        alerts = [e for e in f.evidence if is_alert_evidence(e)]
        measured = [e for e in f.evidence if not is_alert_evidence(e)]
        evidence = " · ".join(_evidence_text(e) for e in measured[:3])
        lines = [f"{f.severity.severity_word.upper()}: {f.title}", f"    evidence: {evidence}"]
        lines += [f"    {e.detail}" for e in alerts]
        label = Text("\n".join(lines))
        options.add_option(Option(label, id=key))
        self._options[key] = f

    def _show_summary(self, options: OptionList, verdict: Static) -> None:
        assert self.report is not None
        serious = [f for f in self.report.findings if f.severity > Level.INFO]
        verdict.add_class(serious[0].severity.severity_word if serious else "ok")
        verdict.update(
            f"{len(serious)} problem(s); most important first"
            if serious
            else "No warning or critical finding: the cluster meets its targets"
        )
        for n, f in enumerate(self.report.findings):
            self._add_finding(options, f"f{n}", f)
        options.highlighted = 0 if options.option_count else None
        if self.exported is not None:
            where = f"Report written to {self.exported}"
        else:
            path = self.export_dir / report_filename(self.report.snapshot.context, self.report.snapshot.taken_at)
            where = f"Report not written: x writes it to {path}"
        steps = [f"  {r.step.title}: {r.verdict.severity_word if r.verdict else 'ok'}" for r in self.results]
        self.query_one("#next", Static).update(Text("\n".join([where, "", "Steps:", *steps])))
        self._show_commands([])

    def plain(self) -> str:
        """What the screen says, for tests and copy-paste."""
        parts = [str(self.query_one(w, Static).render()) for w in ("#title", "#verdict")]
        options = self.query_one("#evidence", OptionList)
        parts += [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        parts.append(str(self.query_one("#next", Static).render()))
        parts.append(str(self.query_one("#commands", Static).render()))
        return "\n".join(parts)


def _evidence_text(evidence: Evidence) -> str:
    """A detail that already states its figure stands alone; a bare label gets the value."""
    if any(ch.isdigit() for ch in evidence.detail):
        return evidence.detail
    value = _evidence_value(evidence.value)
    return f"{evidence.detail} {value}" if evidence.detail else value


def _evidence_value(value: float | str | None) -> str:
    if isinstance(value, str):
        return value
    return "n/a" if value is None else f"{value:.4g}"

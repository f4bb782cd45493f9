"""`:config` / `t`: the tuning and sizing audit, one line per checked setting, the selected one's
value, recommendation, status, source and detail below. Fits 80x24.

Everything shown comes from the cluster (flags, ConfigMaps, kubelet configs): untrusted text, so it
is passed as `rich.text.Text`, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from k8stop.queries.audit.grade import finding_id, grade
from k8stop.queries.audit.tiers import snapshot_nodes
from k8stop.queries.model.audit import AuditStatus, ConfigCheck
from k8stop.queries.model.facts import KubeSummary
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.status import FeedUpdate
from k8stop.tui.screens.sub_screen import SubScreen
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    pass

GLYPH = {
    AuditStatus.WARN: "‼ warn",
    AuditStatus.ADVICE: "! advice",
    AuditStatus.OK: "● ok",
    AuditStatus.NOT_APPLICABLE: "– n/a",
    AuditStatus.NOT_VISIBLE: "? hidden",
}
SHORT_COMPONENT = {
    "kube-apiserver": "apiserver",
    "kube-controller-manager": "controller-mgr",
    "kube-scheduler": "scheduler",
}


def check_line(c: ConfigCheck) -> Text:
    """One row: status, component, setting, value, cut to 78 columns."""
    component = SHORT_COMPONENT.get(c.component, c.component)
    line = f"{GLYPH[c.status]:<9}{component:<15.15}{c.setting:<32.32} {c.value or '-'}"
    return Text(line[:78], style="bold" if c.status is AuditStatus.WARN else "")


def check_detail(c: ConfigCheck) -> Text:
    """The selected setting: the verdict and the evidence first, then where the numbers come from."""
    return Text(
        f"{c.component} {c.setting}: {c.status}\n"
        f"value: {c.value or '-'}   recommended: {c.recommended}\n"
        f"{c.detail}\n"
        f"source: {c.source}\n"
        f"default: {c.default}\n"
        f"by size: {c.by_size}\n"
        f"read: {c.read}"
    )


class ConfigScreen(SubScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    ConfigScreen #summary { height: 1; padding: 0 1; }
    ConfigScreen #checks { height: 1fr; border: none; padding: 0; }
    ConfigScreen #detail { height: 9; padding: 0 1; border-top: solid $primary; overflow-y: auto; }
    """

    def __init__(self, select: str | None = None) -> None:
        super().__init__()
        self._select = select  # a finding id (config.<component>.<setting>) to highlight first
        self.checks: tuple[ConfigCheck, ...] = ()
        self._graded: ClusterSnapshot | None = None  # the snapshot the rows were graded on

    def compose(self) -> ComposeResult:
        yield Static("tuning and sizing audit (seed 2-4, 7.1, 8.1)   (esc back, r reload)", id="title")
        yield Static("", id="summary")
        yield OptionList(id="checks")
        yield Static("", id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.k8stop.listeners.append(self._feed_updated)
        self.query_one("#checks", OptionList).focus()
        self.action_reload()

    def on_unmount(self) -> None:
        if self._feed_updated in self.k8stop.listeners:
            self.k8stop.listeners.remove(self._feed_updated)

    def _feed_updated(self, update: FeedUpdate[Any]) -> None:
        # New readings, or a new cluster size (the recommendations scale with it).
        if update.feed == "audit" or (
            update.feed == "kube" and snapshot_nodes(self._graded) != self._node_count(update)
        ):
            self.action_reload()

    @staticmethod
    def _node_count(update: FeedUpdate[Any]) -> int | None:
        summary = update.facts
        return summary.node_count if isinstance(summary, KubeSummary) and summary.synced else None

    def action_reload(self) -> None:
        app = self.k8stop
        s = app.settings
        snap = app.snapshot()
        self._graded = snap
        self.checks = tuple(sorted(grade(snap, s.thresholds), key=lambda c: c.status.rank))
        summary = self.query_one("#summary", Static)
        checks = self.query_one("#checks", OptionList)
        highlighted = checks.highlighted
        checks.clear_options()
        if not self.checks:
            status = snap.feed("audit")
            why = (status.reason or str(status.state)) if status is not None else "waiting for the first audit"
            summary.update(Text(f"no audit yet: {why}"))
            self.query_one("#detail", Static).update("")
            return
        counts = "  ".join(f"{GLYPH[s]} {sum(1 for c in self.checks if c.status is s)}" for s in AuditStatus)
        summary.update(Text(counts))
        checks.add_options([Option(check_line(c)) for c in self.checks])
        wanted = [i for i, c in enumerate(self.checks) if finding_id(c) == self._select]
        self._select = None
        checks.highlighted = wanted[0] if wanted else min(highlighted or 0, len(self.checks) - 1)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.checks):
            self.query_one("#detail", Static).update(check_detail(self.checks[event.option_index]))

    def detail_text(self) -> str:
        """The detail pane's plain text, for tests and copy-paste."""
        rendered = self.query_one("#detail", Static).render()
        return rendered.plain if isinstance(rendered, Text) else str(rendered)

"""`?`: the keys, as k9s and kubectl users expect them."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]k8stop keys[/b]  (↑ ↓ scroll this help)
 tab / shift+tab   next / previous panel     ↑ ↓  j k   move in a panel
 enter             drill down into the selected row
 z                 maximise / restore the focused panel
 s  a  c           KPI scorecard, alerts, scheduler and controllers
 t                 tuning and sizing audit (settings against the guide)
 w                 workloads: CPU throttling, memory limits, disk runway
 e                 request path: webhooks, APF, DNS, kube-proxy, conntrack
 v                 Warning events, cluster-wide, newest first
 d                 guided diagnosis (opens on the top cause)
 esc               back / clear filter / close (a fleet: its overview)
 /                 filter rows of the focused panel
 :                 command line:  :ctx \\[NAME]  :ns NAME|all  :pods  :nodes
                   :etcd :api :restarts :kpi :alerts :sched :config
                   :workloads :path :events :refresh SECONDS  :q
                   :window 15m|1h|6h|24h  :since 14:05 (or RFC 3339)
                   :cluster NAME  one cluster of a fleet (Thanos, Mimir)
                   :cluster       the fleet overview, enter opens a row
 :pods             every pod, failing first; / filters (words, ns: node:
                   phase: reason:), enter drills down
 W                 next chart/heatmap window: 15m 1h 6h 24h
 y                 in a drill-down: its PromQL and next commands; c copies
                   (OSC 52), u the graph URL, g the Grafana Explore link
 p  r              pause polling, refresh now (in a drill-down: reload)
 + / -             refresh slower / faster
 R                 start / stop recording (./k8stop-DATE-TIME.k8rec)
 ?  q              this help, quit

Feed: ● live  ◐ stale  ✖ error  ○ not exposed   heat: · ░ ▒ ▓ █ (low→high)
      ● PAUSED / ● REPLAY 14:05:03: not live, as of the time shown
Values: ! past the warning level  ‼ past the critical one  ★ etcd leader
Lists: failing pods first; ↓N more: rows not shown (z, then j/k)
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 100%; height: 30; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

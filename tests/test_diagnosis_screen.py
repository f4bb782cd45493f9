"""The guided session at 80x24 against a real Prometheus: walk every step, open evidence,
come back to the same step, end with the summary and the exported Markdown report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.registry import SNAPSHOT_FEEDS
from k8stop.queries.rules.guided import STEPS
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.diagnosis import DiagnosisScreen
from k8stop.tui.screens.etcd_member import EtcdMemberScreen
from scenario import Scenario
from screen import screen_text, wait_for


def slow_etcd_and_hot_node() -> Scenario:
    slow = Scenario.slow_etcd_member(member=0, convention="generic")
    return replace(slow, name="diagnosis-session", nodes=Scenario.cpu_saturated_node(node=1).nodes)


async def test_guided_session(prometheus_for, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = slow_etcd_and_hot_node()
    prom = prometheus_for(scenario)
    app = K8sTopApp(Settings(prometheus_url=prom.url, use_kube=False, refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: all(f in app.latest for f in SNAPSHOT_FEEDS), what="every feed")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnosisScreen), what="the diagnosis screen")
        session = app.screen
        assert isinstance(session, DiagnosisScreen)
        assert session.export_dir == tmp_path
        # `d` opens on the step of the top cause (the banner's); b goes back to the first step.
        top = session.report.findings[0]
        assert session.step == next(i for i, s in enumerate(STEPS) if top.component in s.components) == 1
        await pilot.press("b")

        # Step 1, API server: healthy here.
        assert "1/5 › Control plane: API server" in screen_text(app)
        assert session.plain().splitlines()[1].startswith("OK")

        # Step 2, etcd: critical, naming the slow member, with the disk advice to check next.
        await pilot.press("n")
        slow = scenario.etcd[0]
        text = session.plain()
        assert "2/5 › etcd" in text
        verdict = text.splitlines()[1]
        assert verdict.startswith("CRITICAL") and slow.name in verdict
        assert len(verdict) <= 78 and verdict in screen_text(app)  # the headline is one line at 80x24
        assert "Check next:" in text and "disk" in text.lower()
        # The fio command is one unwrapped line, whole, to be copied.
        fio = next(line for line in text.splitlines() if "fio --name=etcd-test" in line)
        assert fio.startswith("[cmd 1] mkdir -p /var/lib/etcd-fio") and fio.endswith("rm -rf /var/lib/etcd-fio")
        assert "2/5 › etcd" in screen_text(app)  # really drawn at 80x24

        # Enter on the first evidence line opens that member's drill-down; Esc returns to step 2.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EtcdMemberScreen), what="the etcd drill-down")
        assert app.screen.key.instance.startswith(slow.name)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is session, what="back to the session")
        assert session.step == 1 and "2/5 › etcd" in screen_text(app)

        # Step 3 scheduler and controllers: ok. Step 4 nodes: the hot node. Step 5 workloads: ok.
        await pilot.press("n")
        assert session.plain().splitlines()[1].startswith("OK")
        await pilot.press("n")
        hot = scenario.nodes[1].name
        assert f"4/5 › {STEPS[3].title}" in session.plain()
        assert session.plain().splitlines()[1].startswith("CRITICAL") and hot in session.plain().splitlines()[1]
        await pilot.press("n")
        assert "5/5 › Workloads" in session.plain()

        # Summary: findings most important first; the report is written only when asked (x),
        # to the path the summary shows.
        await pilot.press("n")
        summary = session.plain()
        assert session.exported is None and list(tmp_path.iterdir()) == []
        [offer] = [line for line in summary.splitlines() if line.startswith("Report not written: x writes it to ")]
        offered = Path(offer.rsplit(" ", 1)[1])
        assert offered.parent == tmp_path and offered.name.startswith("k8stop-report-")
        await pilot.press("x")
        await wait_for(pilot, lambda: session.exported is not None, what="the exported report")
        assert session.exported == offered
        summary = session.plain()
        assert "summary" in summary.splitlines()[0]
        first_finding = summary.splitlines()[2]
        assert first_finding.startswith("CRITICAL:")
        path = session.exported
        assert path is not None and path.parent == tmp_path and path.name.startswith("k8stop-report-")
        assert str(path) in summary
        report = path.read_text()
        top = session.report.findings[0]
        assert top.component in ("etcd", "node") and top.title in report
        assert report.split("## Findings", 1)[1].index(top.title) < report.split("## Findings", 1)[1].index("### 2.")

        # Esc closes the session back to the dashboard.
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dashboard")

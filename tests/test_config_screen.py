"""The `:config` screen at 80x24 against the kube-API test server's large kubeadm-style cluster:
one line per checked setting, warnings first, the selected one's detail below."""

from __future__ import annotations

from pathlib import Path

from audit_cluster import large_kubeadm_cluster
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.tui.app import K8sTopApp
from k8stop.tui.help_screen import HelpScreen
from k8stop.tui.screens.config_screen import ConfigScreen
from k8stop.tui.screens.diagnosis import DiagnosisScreen
from kubeapi import ThreadedKubeApiServer, write_kubeconfig
from screen import open_screen, screen_lines, screen_text, wait_for


async def test_config_screen_at_80x24(tmp_path: Path) -> None:
    with ThreadedKubeApiServer(large_kubeadm_cluster(), bookmark_interval=0.5) as server:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url, server.token)
        settings = Settings(kubeconfig=str(kubeconfig), use_prometheus=False, refresh=0.5)
        app = K8sTopApp(settings, LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: "audit" in app.latest and "kube" in app.latest, what="the audit feed")
            await wait_for(
                pilot,
                lambda: app.latest["kube"].facts is not None and app.latest["kube"].facts.synced,
                what="the kube initial list",
            )
            await pilot.press("colon", *"config", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfigScreen), what="the config screen")
            config = app.screen
            assert isinstance(config, ConfigScreen)
            await wait_for(pilot, lambda: bool(config.checks), what="graded settings")
            await pilot.pause()
            lines = screen_lines(app)
            assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
            assert lines[0].strip().startswith("tuning and sizing audit")
            # Warnings first: the single etcd member on 1,200 nodes.
            assert lines[2].startswith("‼ warn   etcd           member count                     1")
            shown = screen_text(app)
            assert "! advice apiserver      --max-requests-inflight          400" in shown
            assert "! advice kube-proxy     mode                             iptables" in shown
            detail = config.detail_text()
            assert detail.startswith("etcd member count: warn")
            assert "recommended: 5 (1,200 nodes, tier 1000+)" in detail
            assert "source: seed 7.1" in detail
            assert "recommended: 5 (1,200 nodes" in shown  # the detail pane is on screen too

            # Down to the inflight limit: its value, recommendation and source below.
            index = next(i for i, c in enumerate(config.checks) if c.setting == "--max-requests-inflight")
            for _ in range(index):
                await pilot.press("down")
            await pilot.pause()
            detail = config.detail_text()
            assert detail.startswith("kube-apiserver --max-requests-inflight: advice")
            assert "value: 400   recommended: >= 3000 (1,200 nodes, tier 1000+)" in detail
            assert "value: 400   recommended: >= 3000" in screen_text(app)

            # Every checked setting is listed, scrolled if need be: the not-applicable ones last.
            assert config.checks[-1].status.value == "not applicable"
            assert len(config.checks) > 25

            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfigScreen), what="back")
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfigScreen), what="the config screen by key")
            await pilot.press("escape")
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
            assert "tuning and sizing audit" in screen_text(app)
            await pilot.press("escape")

            # The guided diagnosis lists the audit's findings in the API-server step; Enter opens
            # the :config screen on that setting.
            session = await open_screen(pilot, "d", DiagnosisScreen, what="the diagnosis")
            while session.step > 0:  # it opens on the top cause's step; the audit sits in the first
                await pilot.press("b")
            ids = [f.id for f in session.results[0].findings]
            index = ids.index("config.kube-apiserver.max-requests-inflight")
            for _ in range(index):
                await pilot.press("down")
            await pilot.pause()
            assert "kube-apiserver --max-requests-inflight is 400; recommended >= 3000" in screen_text(app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfigScreen), what="the config screen from diagnosis")
            assert app.screen.detail_text().startswith("kube-apiserver --max-requests-inflight: advice")
    assert {r.method for r in server.requests} == {"GET"}

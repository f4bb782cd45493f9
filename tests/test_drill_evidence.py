"""Time windows, the PromQL behind a drill-down and the next commands, in the live app at 80x24
against a real Prometheus holding the incidents scenario."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from drilldown_scenarios import incidents
from k8stop.queries.config import Settings
from k8stop.queries.drill.next_steps import api_commands, etcd_commands, node_commands, pod_commands
from k8stop.queries.drill.window import ViewWindow, WindowError, parse_since, parse_span
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.model.keys import ApiKey, PodKey
from k8stop.queries.model.units import fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.detail_screen import DetailScreen
from k8stop.tui.screens.evidence import EvidenceScreen
from k8stop.widgets.chart_plot import ChartPlot
from screen import screen_text, wait_for
from test_drilldown_screens import drill, ready

SECRET = "s3cr3t-canary"


def make_app(url: str, **settings: object) -> K8sTopApp:
    return K8sTopApp(Settings(prometheus_url=url, use_kube=False, refresh=1.0, **settings), LiveSource)  # type: ignore[arg-type]


async def command(pilot: object, line: str) -> None:
    await pilot.press("colon", *line, "enter")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def on_screen(pilot: object, app: K8sTopApp, text: str) -> None:
    await wait_for(pilot, lambda: text in screen_text(app), what=repr(text))


async def test_promql_of_a_drill_down_links_and_copies(prometheus_for) -> None:
    s = incidents()
    prom = prometheus_for(s)
    with_user = prom.url.replace("http://", f"http://viewer:{SECRET}@")
    app = make_app(with_user, grafana_url=f"https://admin:{SECRET}@grafana.example/?orgId=1")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        screen = await drill(pilot, app, "apiserver")
        assert screen.key == ApiKey("LIST", "pods")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, EvidenceScreen), what="PromQL screen")
        evidence = app.screen
        assert isinstance(evidence, EvidenceScreen)
        text = screen_text(app)
        assert "PromQL  " in text and "API server › LIST pods › PromQL and next commands" in text

        # The first query is the latency quantile the screen shows: run it, get the same p99.
        latency = next(i for i, q in enumerate(evidence.queries) if 'verb="LIST"' in q.promql and "0.99" in q.promql)
        for _ in range(latency):
            await pilot.press("down")
        query = evidence.queries[latency].promql
        assert query.splitlines()[0][:60] in screen_text(app)
        [sample] = [r for r in prom.query(query) if r["metric"].get("le") is None]  # type: ignore[union-attr]
        shown = f"p99 {fmt_seconds(Value.of(s.expected_api_quantile('LIST', 'pods')))}"
        assert shown in screen.text_of()
        assert float(sample["value"][1]) == pytest.approx(s.expected_api_quantile("LIST", "pods"), rel=0.02)  # type: ignore[index]

        # Copy: OSC 52 through Textual, and the text stays on screen for selection.
        await pilot.press("c")
        assert app.clipboard == query
        graph = evidence.selected["graph"]
        assert graph.startswith(prom.url + "/graph?g0.expr=") and SECRET not in graph
        assert parse_qs(urlsplit(graph).query)["g0.expr"] == [query]
        grafana = evidence.selected["grafana"]
        assert grafana.startswith("https://grafana.example/explore?left=") and SECRET not in grafana
        assert query in parse_qs(urlsplit(grafana).query)["left"][0].replace('\\"', '"')
        await pilot.press("u")
        assert app.clipboard == graph
        await pilot.press("end")
        assert SECRET not in screen_text(app)
        await pilot.press("escape")
        assert app.screen is screen


async def test_drill_downs_end_with_next_commands(prometheus_for) -> None:
    s = incidents()
    app = make_app(prometheus_for(s).url, context="prod-eu")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        key = app.dashboard.panels()["restarts"].selected_key
        assert isinstance(key, PodKey) and key.container
        screen = await drill(pilot, app, "restarts")
        await pilot.press("end")
        # Each command on one unwrapped line: the screen shows its start, the body scrolls sideways.
        expected = f"$ kubectl --context prod-eu -n {key.namespace} logs {key.pod} -c {key.container} --previous"
        await on_screen(pilot, app, expected[:70])
        assert expected in screen.text_of()
        await on_screen(pilot, app, f"$ kubectl --context prod-eu -n {key.namespace} describe pod {key.pod}")
        await pilot.press("escape")

        hot = s.nodes[2]
        screen = await drill(pilot, app, "nodes")
        await pilot.press("end")
        await on_screen(pilot, app, f"$ kubectl --context prod-eu describe node {hot.name}")

        screen = await _drill_again(pilot, app, "etcd")
        await pilot.press("end")
        await on_screen(pilot, app, "$ ETCDCTL_API=3 etcdctl --endpoints=https://10.0.0.2:2379 ")
        assert "endpoint status -w table" in screen.text_of()
        # The copy screen lists the commands after the queries; c copies the one highlighted.
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, EvidenceScreen), what="copy screen")
        evidence = app.screen
        for _ in range(len(evidence.queries)):
            await pilot.press("down")
        await pilot.press("c")
        assert app.clipboard == etcd_commands("10.0.0.2:2379", "prod-eu")[0]


async def _drill_again(pilot: object, app: K8sTopApp, feed: str) -> DetailScreen:
    await pilot.press("escape")  # type: ignore[attr-defined]
    return await drill(pilot, app, feed)


def test_commands_quote_or_refuse_names_from_the_cluster() -> None:
    assert pod_commands("shop", "checkout-1", ("app",), None)[0] == "kubectl -n shop logs checkout-1 -c app --previous"
    # A container name that is a shell payload is left out, not run through a shell.
    assert all("rm" not in c for c in pod_commands("shop", "p", ("app", "x;rm -rf ~"), None))
    for hostile in ("$(reboot)", "a\nb", "\x1b[2J", "-rf", "a b", ""):
        assert pod_commands("shop", hostile, ("app",), None) == ()
        assert node_commands(hostile, None) == ()
        assert api_commands(hostile, "pods", None) == ()
    assert node_commands("n1", "bad ctx")[0] == "kubectl describe node n1"  # an odd context is dropped
    assert "--endpoints=https://'[::1]:2379'" in etcd_commands("[::1]:2379", None)[0]


def test_windows_parse_and_cycle() -> None:
    assert parse_span("6h") == ViewWindow(21600.0) and parse_span("15m").label() == "last 15m"
    for bad in ("7y", "0m", "30s", "9d", "six hours"):
        with pytest.raises(WindowError):
            parse_span(bad)
    now = time.mktime((2026, 11, 30, 15, 0, 0, 0, 0, -1))
    assert parse_since("14:05", now).since == now - 55 * 60
    assert parse_since("16:00", now).since == now - 23 * 3600  # still to come today: yesterday
    utc_start = datetime(2026, 11, 30, 13, 0, tzinfo=UTC).timestamp()
    assert parse_since("2026-11-30T13:00:00Z", utc_start + 60).since == utc_start
    with pytest.raises(WindowError):
        parse_since("25:00", now)
    assert [ViewWindow(s).next().span for s in (900.0, 3600.0, 21600.0, 86400.0)] == [3600.0, 21600.0, 86400.0, 900.0]


async def test_chosen_window_spans_charts_and_heatmap(prometheus_for) -> None:
    prom = prometheus_for(incidents())
    app = make_app(prom.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await command(pilot, "window 7y")
        assert app.view == ViewWindow() and any("use a number and a unit" in str(n.message) for n in app._notifications)
        await command(pilot, "window 6h")
        assert app.view == ViewWindow(21600.0)

        def heatmap_step() -> float | None:
            facts = app.dashboard.panels()["apiserver"].facts
            return facts.heatmap.step if facts is not None and facts.heatmap is not None else None

        # 30 columns whatever the window: 6 h makes 12-minute columns, said under the heatmap.
        await wait_for(pilot, lambda: heatmap_step() == 720.0, what="a 6 h heatmap")
        await wait_for(pilot, lambda: "cols 720s, 360m" in screen_text(app), what="the heatmap legend")

        screen = await drill(pilot, app, "apiserver")
        shown = screen.shown
        assert shown is not None and shown.end - shown.start == pytest.approx(21600.0, rel=0.05)
        plot = screen.query(ChartPlot).first()
        # About one point per chart column, whatever the window: Prometheus' cost stays bounded.
        assert 2 <= max(len(line.times) for line in plot.chart.lines) <= 80
        await on_screen(pilot, app, "charts: last 6h")
        await pilot.press("W")  # 6h -> 24h, and the open drill-down reloads over it
        await wait_for(pilot, lambda: screen.loaded and screen.shown is not shown, what="reload")
        assert screen.shown.end - screen.shown.start == pytest.approx(86400.0, rel=0.05)
        await on_screen(pilot, app, "charts: last 24h")
        await pilot.press("escape")

        since = time.strftime("%H:%M", time.localtime(app.now() - 2 * 3600 - 60))
        await command(pilot, f"since {since}")
        assert app.view.since is not None and app.view.label() == f"since {since}"
        screen = await drill(pilot, app, "apiserver")
        assert screen.shown is not None and screen.shown.start == pytest.approx(app.view.since, abs=300)
        # Clock times on the axis, from the window's start: never "minutes ago".
        await pilot.press("pagedown")
        await on_screen(pilot, app, "local time (")
        end = time.strftime("%H:%M", time.localtime(screen.shown.end))
        axis = [line for line in screen_text(app).splitlines() if since in line and end in line]
        assert axis and "charts:" not in axis[0], screen_text(app)
        assert "minutes ago" not in screen_text(app)


async def test_help_lists_windows_promql_and_the_pod_list(prometheus) -> None:
    app = make_app(prometheus.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        for _ in range(3):
            await pilot.press("pagedown")
        await on_screen(pilot, app, "next chart/heatmap window: 15m 1h 6h 24h")
        text = screen_text(app)
        assert ":window 15m|1h|6h|24h  :since 14:05" in text
        assert "in a drill-down: its PromQL and next commands; c copies" in text
        assert "every pod, failing first; / filters" in text
        assert "● PAUSED / ● REPLAY 14:05:03: not live" in text

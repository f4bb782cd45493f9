"""The data drill-down screens read, behind one protocol with two implementations:
`LiveDrill` asks Prometheus and the kube feed now; `RecordedDrill` (drill/recorded.py)
draws the same shapes from the feed updates the app saw or a recording holds.

A screen renders whatever it gets and never asks which one it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from k8stop.queries.drill.api import ApiDetail, api_detail
from k8stop.queries.drill.common import Chart, RangeWindow
from k8stop.queries.drill.control_plane import ControlPlaneHistory, control_plane_history
from k8stop.queries.drill.etcd import EtcdDetail, etcd_detail
from k8stop.queries.drill.node import NodeHistory, NodeKube, NodeKubelet, node_history, node_kube, node_kubelet
from k8stop.queries.drill.pod import PodKube, pod_kube, pod_restart_history
from k8stop.queries.drill.pod_logs import NOT_RECORDED, PreviousLog, log_container, previous_log
from k8stop.queries.drill.promql import QueryLog, UsedQuery
from k8stop.queries.model.facts import AlertsFacts, EtcdFacts, EtcdMember, EventRecord, PodRecord
from k8stop.queries.model.keys import ApiKey, EtcdKey, NodeKey, PodKey
from k8stop.queries.model.status import FeedUpdate

if TYPE_CHECKING:
    from k8stop.queries.kube.connection import KubeConnection
    from k8stop.queries.kube.store import KubeReads
    from k8stop.queries.prom.facts_source import PrometheusFacts

Warnings = tuple[str, ...]
RECORDED_NOTE = "history charts need a live Prometheus: these are drawn from the recorded updates"


class DrillData(Protocol):
    @property
    def note(self) -> str:
        """Said under every drill-down's title: where its history comes from, if not Prometheus."""
        ...

    @property
    def prometheus_url(self) -> str:
        """The Prometheus the queries went to ("" when none did), for graph links."""
        ...

    def queries(self) -> tuple[UsedQuery, ...]:
        """The PromQL this data ran so far, in order: what produced a screen's numbers."""
        ...

    async def api(self, key: ApiKey, window: RangeWindow) -> tuple[ApiDetail, Warnings]: ...

    async def etcd(self, key: EtcdKey, window: RangeWindow) -> tuple[EtcdDetail, Warnings]: ...

    async def node(self, key: NodeKey, window: RangeWindow) -> tuple[NodeHistory, Warnings]: ...

    async def node_kube(self, key: NodeKey) -> NodeKube | None:
        """Conditions, allocation and pods; None without kube records."""
        ...

    async def node_kubelet(self, key: NodeKey) -> tuple[NodeKubelet | None, Warnings]:
        """The node's own kubelet (PLEG, runtime operations); None when not scraped."""
        ...

    async def pod(self, key: PodKey, window: RangeWindow) -> tuple[Chart, Warnings]: ...

    def pod_kube(self, key: PodKey) -> PodKube | None: ...

    def warning_events(self, count: int) -> tuple[EventRecord, ...] | None:
        """The cluster's latest Warning events, newest first; None without kube records."""
        ...

    async def previous_log(self, key: PodKey) -> PreviousLog:
        """The last lines of the container's previous run, read live; never recorded."""
        ...

    def pods(self) -> tuple[PodRecord, ...] | None:
        """Every synced (or recorded) pod for the pod list; None without kube records."""
        ...

    async def control_plane(
        self, window: RangeWindow, queues: tuple[str, ...]
    ) -> tuple[ControlPlaneHistory, Warnings]: ...

    async def alerts(self) -> tuple[AlertsFacts | None, str]:
        """The alerts and where they come from."""
        ...


def facts_of(latest: Mapping[str, FeedUpdate[Any]], feed: str) -> Any:
    update = latest.get(feed)
    return update.facts if update is not None else None


def member_of(facts: EtcdFacts | None, instance: str) -> EtcdMember | None:
    return next((m for m in facts.members if m.instance == instance), None) if facts is not None else None


class KubeDrill:
    """The kube half both implementations share: a live feed or recorded records, or none."""

    def __init__(self, kube: KubeReads | None, connection: KubeConnection | None = None) -> None:
        self._kube = kube
        self._connection = connection  # for reads no feed holds (logs); None in a replay

    async def node_kube(self, key: NodeKey) -> NodeKube | None:
        return await node_kube(self._kube, key.node) if self._kube is not None else None

    def pod_kube(self, key: PodKey) -> PodKube | None:
        return pod_kube(self._kube, key.namespace, key.pod) if self._kube is not None else None

    def pods(self) -> tuple[PodRecord, ...] | None:
        return self._kube.all_pods() if self._kube is not None else None

    def warning_events(self, count: int) -> tuple[EventRecord, ...] | None:
        return self._kube.recent_warnings(count) if self._kube is not None else None

    async def previous_log(self, key: PodKey) -> PreviousLog:
        record = self._kube.pod(key.namespace, key.pod) if self._kube is not None else None
        container = log_container(record, key.container)
        if self._connection is None:
            return PreviousLog(container, (), NOT_RECORDED + ": this session has no live kube API")
        return await previous_log(self._connection, key.namespace, key.pod, container)


class LiveDrill(KubeDrill):
    note = ""

    def __init__(
        self,
        prometheus: PrometheusFacts,
        kube: KubeReads | None,
        latest: Mapping[str, FeedUpdate[Any]],
        connection: KubeConnection | None = None,
    ) -> None:
        super().__init__(kube, connection)
        self._prometheus = prometheus
        # Each drill-down load gets its own LiveDrill: its log holds that screen's queries.
        self._log = QueryLog(prometheus.context.catalog)
        self._ctx = prometheus.context.with_catalog(self._log)
        self._latest = latest
        self.prometheus_url = prometheus.client.url

    def queries(self) -> tuple[UsedQuery, ...]:
        return tuple(self._log.used)

    async def api(self, key: ApiKey, window: RangeWindow) -> tuple[ApiDetail, Warnings]:
        return await api_detail(self._ctx, key.verb, key.resource, window)

    async def etcd(self, key: EtcdKey, window: RangeWindow) -> tuple[EtcdDetail, Warnings]:
        member = member_of(facts_of(self._latest, "etcd"), key.instance)
        return await etcd_detail(self._ctx, key.instance, window, member)

    async def node(self, key: NodeKey, window: RangeWindow) -> tuple[NodeHistory, Warnings]:
        return await node_history(self._ctx, key.node, window)

    async def node_kubelet(self, key: NodeKey) -> tuple[NodeKubelet | None, Warnings]:
        return await node_kubelet(self._ctx, key.node)

    async def pod(self, key: PodKey, window: RangeWindow) -> tuple[Chart, Warnings]:
        return await pod_restart_history(self._ctx, key.namespace, key.pod, window)

    async def control_plane(self, window: RangeWindow, queues: tuple[str, ...]) -> tuple[ControlPlaneHistory, Warnings]:
        return await control_plane_history(self._ctx, window, queues)

    async def alerts(self) -> tuple[AlertsFacts | None, str]:
        facts, _ = await self._prometheus.alerts()
        if facts.server_has_rules:
            return facts, "from Prometheus /api/v1/alerts"
        from k8stop.queries.prom.builtin_alerts import builtin_alerts

        facts, _ = await builtin_alerts(self._ctx)
        return facts, (
            "Prometheus has no alerting rules: k8stop evaluated the seed's three rules "
            "(APIServerLatencyHigh, EtcdDiskLatencyHigh, NodeCPUHigh) itself"
        )

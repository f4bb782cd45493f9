"""The kube feed's records as a recording holds them, read back the way drill-downs read a
live KubeFeed (node, pods_on_node, pod, pods_of_owner, events_for, pod_usage).

Recorded as the "kube_objects" feed; a replay's drill-downs then show the conditions, pods
and events the cluster had at that moment instead of "needs the kube API".
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from k8stop.queries.kube.restarts import epoch
from k8stop.queries.kube.store import EventStore, KubeReads, NodeStore, PodStore, seen_at
from k8stop.queries.model.facts import ContainerRecord, KubeObjects, PodRecord

if TYPE_CHECKING:
    from k8stop.queries.kube.feed import KubeFeed


def kube_objects(feed: KubeFeed) -> KubeObjects:
    """Every node, the pods scheduled on them and the Warning events about either.

    Unscheduled (Pending) pods are left out: no node drill-down lists them, and a recording
    of a large cluster must not carry every pod twice.
    """
    nodes = feed.nodes()
    pods = tuple(p for n in nodes for p in feed.pods_on_node(n.name))
    events = tuple(e for p in pods for e in feed.events_for("Pod", p.namespace, p.name)) + tuple(
        e for n in nodes for e in feed.events_for("Node", "", n.name)
    )
    return KubeObjects(nodes, pods, events)


def _after(stamp: str | None, at: float) -> bool:
    when = epoch(stamp)
    return when is not None and when > at


def _container_as_of(c: ContainerRecord, at: float) -> ContainerRecord:
    if not _after(c.last_finished_at, at):
        return c
    # A termination after the moment had not happened yet: its reason and exit code were unknown then.
    return replace(c, last_terminated_reason=None, last_exit_code=None, last_finished_at=None)


def _pod_as_of(pod: PodRecord, at: float) -> PodRecord:
    return replace(pod, containers=tuple(_container_as_of(c, at) for c in pod.containers))


def objects_as_of(objects: KubeObjects, at: float) -> KubeObjects:
    """`objects` as they were at `at`: records are taken every few refreshes (a demo's cluster
    holds its end state throughout), so a replay moment must not show what came later: pods
    created after it, terminations and events seen after it."""
    pods = tuple(_pod_as_of(p, at) for p in objects.pods if not _after(p.created, at))
    events = tuple(e for e in objects.warnings if seen_at(e) <= at)
    return KubeObjects(objects.nodes, pods, events)


class RecordedKube(KubeReads):
    """Read-only KubeFeed look-alike over one KubeObjects."""

    def __init__(self, objects: KubeObjects) -> None:
        self._nodes = NodeStore()
        self._pods = PodStore()
        self._events = EventStore()
        for node in objects.nodes:
            self._nodes.upsert(node)
        for pod in objects.pods:
            self._pods.upsert(pod)
        for i, event in enumerate(objects.warnings):
            # EventRecord lacks the Event's own name; its position keys it uniquely.
            self._events.upsert((event.namespace, str(i)), event)

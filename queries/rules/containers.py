"""What the container rules share: grouping containers by the workload that owns them, so a
Deployment's ten throttled replicas read as one finding about the Deployment."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from k8stop.queries.model.facts import PodPlacement
from k8stop.queries.model.finding import Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.values import Value
from k8stop.queries.rules.grading import Bound, present
from k8stop.queries.rules.workloads import placed_owner


def owner_key(namespace: str, pod: str, placement: PodPlacement) -> tuple[str, str, str]:
    """(namespace, owner kind, owner name); the subject is "namespace/owner" (or "namespace/pod")."""
    kind, name = placed_owner(pod, placement.owner_kind, placement.owner_name)
    return (namespace, kind, name)


class Placed(Protocol):
    """A container fact that knows its pod and the pod's owner."""

    @property
    def namespace(self) -> str: ...
    @property
    def pod(self) -> str: ...
    @property
    def placement(self) -> PodPlacement: ...


P = TypeVar("P", bound=Placed)


def owner_findings(
    items: Iterable[P], bound: Bound, share: Callable[[P], float], finding: Callable[[list[P]], Finding | None]
) -> list[Finding]:
    """One finding per owner of the items whose `share` reaches `bound`'s target; each group
    keeps the order given (worst first stays worst first)."""
    groups: dict[tuple[str, str, str], list[P]] = {}
    for item in items:
        if bound.grade(Value.of(share(item))) >= Level.WARN:
            groups.setdefault(owner_key(item.namespace, item.pod, item.placement), []).append(item)
    return present(finding(group) for group in groups.values())


def describe_owner(owner: tuple[str, str, str], pods: int) -> str:
    """'3 replicas of Deployment shop/frontend', or 'shop/frontend-x' for a bare pod."""
    namespace, kind, name = owner
    if kind == "Pod":
        return f"{namespace}/{name}"
    return f"{pods} {'replica' if pods == 1 else 'replicas'} of {kind} {namespace}/{name}"


def fmt_cores(cores: float) -> str:
    return f"{cores * 1000:.0f}m" if cores < 10 else f"{cores:.3g}"

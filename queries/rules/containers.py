"""What the container rules share: grouping containers by the workload that owns them, so a
Deployment's ten throttled replicas read as one finding about the Deployment."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from k8stop.queries.model.facts import PodPlacement
from k8stop.queries.rules.workloads import placed_owner

C = TypeVar("C")


def owner_key(namespace: str, pod: str, placement: PodPlacement) -> tuple[str, str, str]:
    """(namespace, owner kind, owner name); the subject is "namespace/owner" (or "namespace/pod")."""
    kind, name = placed_owner(pod, placement.owner_kind, placement.owner_name)
    return (namespace, kind, name)


def by_owner(items: Iterable[C], key: Callable[[C], tuple[str, str, str]]) -> dict[tuple[str, str, str], list[C]]:
    """Items grouped by owner, in the order given (worst first stays worst first)."""
    groups: dict[tuple[str, str, str], list[C]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def describe_owner(owner: tuple[str, str, str], pods: int) -> str:
    """'3 replicas of Deployment shop/frontend', or 'shop/frontend-x' for a bare pod."""
    namespace, kind, name = owner
    if kind == "Pod":
        return f"{namespace}/{name}"
    return f"{pods} {'replica' if pods == 1 else 'replicas'} of {kind} {namespace}/{name}"


def fmt_cores(cores: float) -> str:
    return f"{cores * 1000:.0f}m" if cores < 10 else f"{cores:.3g}"

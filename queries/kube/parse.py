"""Raw kube-API JSON (as orjson gives it) to the slim records of facts.py.

A full pod object is ~20 KB; the records keep only what panels and drill-downs show, so
150,000 pods fit in memory and never pass through the kubernetes client's model classes.

What 150,000 records share is stored once (bench/RESULTS.md, "Where the memory goes"):
strings that repeat across pods (namespaces, node names, phases, owners, container names,
reasons, timestamps) are interned, and equal container records, container tuples and large
ints are shared through bounded caches. Otherwise each pod would keep its own copy of every
string orjson made, and those copies pin the memory of the parsed page they came from.
"""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar, cast

from k8stop.queries.model.facts import ContainerRecord, EventRecord, NodeRecord, NodeUsage, PodRecord, PodUsage
from k8stop.queries.model.sanitize import clean

Json = dict[str, Any]
T = TypeVar("T")


@lru_cache(maxsize=16384, typed=True)
def _first_equal(value: object) -> object:
    return value


def _shared(value: T) -> T:
    """The first value equal to `value` still in the cache: healthy containers, their tuples
    and resource sums repeat across a workload's replicas. Bounded, so churn cannot grow it."""
    return cast(T, _first_equal(value))


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def parse_quantity(text: str | int | float | None) -> Decimal:
    """A resource.Quantity ("100m", "1.5", "128Mi", "1e3", "500k") as an exact Decimal.

    Raises ValueError on text the API server would not have accepted.
    """
    if text is None:
        return Decimal(0)
    if isinstance(text, (int, float)):
        return Decimal(str(text))
    raw = text.strip()
    if not raw:
        raise ValueError("empty quantity")
    suffix = raw[-2:]
    if suffix in _BINARY:
        return _number(raw[:-2], raw) * _BINARY[suffix]
    # "1e3"/"1E-3": a decimal exponent; "E" alone is exa, so only split when digits follow
    for marker in ("e", "E"):
        head, sep, exponent = raw.rpartition(marker)
        if sep and head and exponent.lstrip("+-").isdigit():
            return _number(head, raw) * (Decimal(10) ** int(exponent))
    unit = raw[-1] if raw[-1] in _DECIMAL else ""
    return _number(raw[: len(raw) - len(unit)], raw) * _DECIMAL[unit]


def _number(digits: str, whole: str) -> Decimal:
    if not digits or digits[-1] in "+-" or any(c not in "0123456789.+-" for c in digits):
        raise ValueError(f"invalid quantity {whole!r}")
    try:
        return Decimal(digits)
    except InvalidOperation:
        raise ValueError(f"invalid quantity {whole!r}") from None


def _ceil(value: Decimal) -> int:
    """Kubernetes rounds MilliValue()/Value() up, so 0.1m is 1m and 1.5 bytes is 2."""
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def millicores(text: str | int | float | None) -> int:
    return _ceil(parse_quantity(text) * 1000)


def quantity_bytes(text: str | int | float | None) -> int:
    return _ceil(parse_quantity(text))


@lru_cache(maxsize=4096)
def _quiet(parse: Any, text: Any) -> int:
    """A malformed quantity in one object must not blind the whole feed; count it as 0.

    Cached: a cluster repeats a few hundred distinct quantities across 150,000 pods, and
    Decimal parsing was a third of the cost of a pod record."""
    try:
        return int(parse(text))
    except ValueError:
        return 0


# --- strings: every one a tenant may control, made inert here (model/sanitize.py) -------------


def _text(value: Any, default: str = "") -> str:
    return clean(value if isinstance(value, str) else default if value is None else str(value))


def _word(value: Any, default: str = "") -> str:
    """`_text` for a string many objects repeat, stored once. sys.intern keeps no string
    alive on its own: one no record holds any more is freed as usual."""
    return sys.intern(_text(value, default))


def _optional_word(value: Any) -> str | None:
    return None if value is None else _word(value)


def _optional(value: Any) -> str | None:
    return None if value is None else _text(value)


# --- pods -----------------------------------------------------------------------------------


def _resources(container: Json, which: str) -> tuple[int, int]:
    values = (container.get("resources") or {}).get(which) or {}
    return _quiet(millicores, values.get("cpu")), _quiet(quantity_bytes, values.get("memory"))


def _effective(spec: Json, which: str) -> tuple[int, int]:
    """Pod-level requests or limits as the scheduler counts them (resourcehelper.PodRequests).

    Regular containers add up; sidecars (init containers with restartPolicy Always) run
    alongside them; a plain init container runs alone (plus the sidecars started before
    it), so only the largest such moment counts. Pod overhead adds on top.
    """
    pod_level = (spec.get("resources") or {}).get(which) or {}
    if pod_level:
        return _quiet(millicores, pod_level.get("cpu")), _quiet(quantity_bytes, pod_level.get("memory"))
    cpu = mem = 0
    for container in spec.get("containers") or ():
        c, m = _resources(container, which)
        cpu, mem = cpu + c, mem + m
    side_cpu = side_mem = init_cpu = init_mem = 0
    for container in spec.get("initContainers") or ():
        c, m = _resources(container, which)
        if container.get("restartPolicy") == "Always":
            cpu, mem = cpu + c, mem + m
            side_cpu, side_mem = side_cpu + c, side_mem + m
            moment_cpu, moment_mem = side_cpu, side_mem
        else:
            moment_cpu, moment_mem = c + side_cpu, m + side_mem
        init_cpu, init_mem = max(init_cpu, moment_cpu), max(init_mem, moment_mem)
    cpu, mem = max(cpu, init_cpu), max(mem, init_mem)
    overhead = spec.get("overhead") or {}
    if overhead:
        cpu += _quiet(millicores, overhead.get("cpu"))
        mem += _quiet(quantity_bytes, overhead.get("memory"))
    return cpu, mem


def container_record(status: Json) -> ContainerRecord:
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated")
    # A pod with restartPolicy Never/OnFailure may sit terminated with no lastState
    terminated = last or state.get("terminated") or {}
    waiting = state.get("waiting") or {}
    exit_code = terminated.get("exitCode")
    return _shared(
        ContainerRecord(
            name=_word(status.get("name")),
            ready=bool(status.get("ready", False)),
            restarts=int(status.get("restartCount") or 0),
            waiting_reason=_optional_word(waiting.get("reason")),
            last_terminated_reason=_optional_word(terminated.get("reason")),
            last_exit_code=int(exit_code) if exit_code is not None else None,
            last_finished_at=_optional_word(terminated.get("finishedAt")),
        )
    )


def _init_still_relevant(status: Json) -> bool:
    """An init container that finished cleanly once is history; one that restarts,
    waits (Init:CrashLoopBackOff) or runs as a sidecar is part of the pod's health now."""
    terminated = (status.get("state") or {}).get("terminated")
    finished_ok = terminated is not None and terminated.get("exitCode") == 0
    return not finished_ok or bool(status.get("restartCount"))


def _containers(spec: Json, status: Json) -> tuple[ContainerRecord, ...]:
    by_name = {s.get("name"): s for s in status.get("containerStatuses") or ()}
    records = [
        container_record(by_name.get(c.get("name")) or {"name": c.get("name", "")})
        for c in spec.get("containers") or ()
    ]
    # Statuses for containers the spec no longer lists (should not happen) are kept too
    listed = {c.get("name") for c in spec.get("containers") or ()}
    records += [container_record(s) for name, s in by_name.items() if name not in listed]
    records += [container_record(s) for s in status.get("initContainerStatuses") or () if _init_still_relevant(s)]
    return _shared(tuple(records))


def owner(metadata: Json) -> tuple[str | None, str | None]:
    for ref in metadata.get("ownerReferences") or ():
        if ref.get("controller"):
            return _optional_word(ref.get("kind")), _optional_word(ref.get("name"))
    return None, None


def pod_record(obj: Json) -> PodRecord:
    """Containers come in spec order, then init containers that still matter
    (see _init_still_relevant); requests/limits are pod totals as the scheduler sees them."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    owner_kind, owner_name = owner(metadata)
    cpu_request, memory_request = _effective(spec, "requests")
    cpu_limit, memory_limit = _effective(spec, "limits")
    return PodRecord(
        namespace=_word(metadata.get("namespace")),
        name=_text(metadata.get("name")),
        node=_word(spec.get("nodeName")) or None,
        phase=_word(status.get("phase") or "Unknown"),
        owner_kind=owner_kind,
        owner_name=owner_name,
        containers=_containers(spec, status),
        cpu_request_millis=_shared(cpu_request),
        memory_request_bytes=_shared(memory_request),
        cpu_limit_millis=_shared(cpu_limit),
        memory_limit_bytes=_shared(memory_limit),
        created=_optional_word(metadata.get("creationTimestamp")),
    )


# --- nodes, events, metrics ------------------------------------------------------------------


def node_record(obj: Json) -> NodeRecord:
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    allocatable = status.get("allocatable") or {}
    return NodeRecord(
        name=_text(metadata.get("name")),
        conditions=tuple(
            (_text(c.get("type")), _text(c.get("status"), "Unknown")) for c in status.get("conditions") or ()
        ),
        unschedulable=bool(spec.get("unschedulable", False)),
        allocatable_cpu_millis=_quiet(millicores, allocatable.get("cpu")),
        allocatable_memory_bytes=_quiet(quantity_bytes, allocatable.get("memory")),
        allocatable_pods=_quiet(quantity_bytes, allocatable.get("pods")),
        kubelet_version=_text((status.get("nodeInfo") or {}).get("kubeletVersion")),
        addresses=tuple(
            (_text(a.get("type")), _text(a.get("address")))
            for a in status.get("addresses") or ()
            if isinstance(a, dict) and a.get("address")
        ),
    )


def event_record(obj: Json) -> EventRecord:
    """core/v1 Event. `namespace` is the involved object's: "" for cluster-scoped kinds
    such as Node (whose events the API files under "default")."""
    metadata = obj.get("metadata") or {}
    involved = obj.get("involvedObject") or {}
    series = obj.get("series") or {}
    count = obj.get("count") or series.get("count") or 1
    last_seen = (
        obj.get("lastTimestamp")
        or series.get("lastObservedTime")
        or obj.get("eventTime")
        or metadata.get("creationTimestamp")
    )
    return EventRecord(
        namespace=_text(involved.get("namespace") or ""),
        kind=_text(involved.get("kind")),
        name=_text(involved.get("name")),
        reason=_text(obj.get("reason") or ""),
        message=_text(obj.get("message") or "").strip(),
        count=int(count),
        last_seen=_optional(last_seen),
    )


def node_usage(obj: Json) -> NodeUsage:
    usage = obj.get("usage") or {}
    return NodeUsage(
        node=_text((obj.get("metadata") or {}).get("name")),
        cpu_millis=_quiet(millicores, usage.get("cpu")),
        memory_bytes=_quiet(quantity_bytes, usage.get("memory")),
    )


def pod_usage(obj: Json) -> PodUsage:
    metadata = obj.get("metadata") or {}
    cpu = mem = 0
    for container in obj.get("containers") or ():
        usage = container.get("usage") or {}
        cpu += _quiet(millicores, usage.get("cpu"))
        mem += _quiet(quantity_bytes, usage.get("memory"))
    return PodUsage(
        namespace=_text(metadata.get("namespace")),
        pod=_text(metadata.get("name")),
        cpu_millis=cpu,
        memory_bytes=mem,
    )

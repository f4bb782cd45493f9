"""The small cluster plus a tenant's objects whose every string is hostile (issue 20).

A tenant controls its pod's and containers' names, its termination messages (any workload
writes its own) and, through its controllers, events about its pods. The real API server
validates names, but a compromised or fake one does not, and k8stop must not trust it.
"""

from __future__ import annotations

from typing import Any

from hostile import CLEAR, CLICK, CSI8, DSR, ESCAPES, FILESYSTEM, LINK, OSC52, PROD, RLO, TITLE, ZWSP

from .objects import ContainerSpec, ContainerState, NodeSpec, Obj, PodSpec, make_event, make_node, make_pod, now_stamp
from .scenario import small_cluster_objects

NAMESPACE = PROD  # "[prod]": markup-like, must be shown whole
POD = f"evil{TITLE}"
NODE = f"worker{ZWSP}{DSR}"
CONTAINER = f"app{LINK}"
WAITING = f"CrashLoopBackOff{CSI8}"
TERMINATED = f"OOMKilled{RLO}"
RESTARTS = 99
EVENT_REASON = f"BackOff{CLEAR}"
EVENT_MESSAGE = f"{FILESYSTEM} {CLICK} {OSC52}{DSR}"
TERMINATION_MESSAGE = f"panic: {ESCAPES} {LINK}"
VERSION: dict[str, Any] = {"major": "1", "minor": "29", "gitVersion": f"v1.29.3{TITLE}"}


def hostile_cluster_objects() -> list[tuple[str, Obj]]:
    objects = small_cluster_objects()
    objects.append(("nodes", make_node(NodeSpec(name=NODE, ip="10.0.0.99", created=-86400.0), 0)))
    spec = PodSpec(
        namespace=NAMESPACE,
        name=POD,
        node=NODE,
        app="evil",
        owner_name="evil",
        containers=(ContainerSpec(CONTAINER, f"registry.example.com/evil:{ESCAPES}"),),
        states=(ContainerState(RESTARTS, False, WAITING, TERMINATED, 137),),
        extra_labels=(("team", LINK),),
    )
    pod = make_pod(spec, 0)
    pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["message"] = TERMINATION_MESSAGE
    objects.append(("pods", pod))
    event = make_event(NAMESPACE, "evil.17e1c0a2b3c4d5e9", "Pod", POD, EVENT_REASON, EVENT_MESSAGE, "Warning", 0)
    event["lastTimestamp"] = now_stamp()  # the newest Warning: shown first
    objects.append(("events", event))
    return objects

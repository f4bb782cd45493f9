"""Node filesystems that are filling, soonest full first: space and inodes, ranked on the server
(bottomk of the seconds left) and named as kubectl names the node, in one combined query."""

from __future__ import annotations

from k8stop.queries.model.facts import FilesystemRunway
from k8stop.queries.prom.combine import combine, number, or_absent, split
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.node_names import identity, named

# The recent trend: a disk that started filling half an hour ago must show now. The node
# mixin fits 6 h for its 24 h horizon; a shorter fit follows a sudden fill (logs, core dumps).
WINDOW = "1h"
_ON = "on (instance, device, mountpoint)"
RESOURCES = {
    "space": ("node.filesystem_space_left", "node.filesystem_space_free"),
    "inodes": ("node.filesystem_inodes_left", "node.filesystem_inodes_free"),
}


async def filesystem_runway(ctx: PromContext, top: int) -> tuple[tuple[FilesystemRunway, ...], tuple[str, ...]]:
    render = ctx.catalog.render
    parts: dict[str, str] = {}
    for resource, (left_id, free_id) in RESOURCES.items():
        soonest = f"bottomk({max(1, top)}, {named(ctx, render(left_id, window=WINDOW))})"
        parts[resource] = soonest
        parts[f"{resource}_free"] = f"{render(free_id)} and {_ON} {soonest}"
    result = await ctx.client.query(combine(parts))
    tables = split(result)
    out: list[FilesystemRunway] = []
    for resource in RESOURCES:
        free = {
            (lb.get("instance", ""), lb.get("device", ""), lb.get("mountpoint", "")): v
            for lb, v in tables.get(f"{resource}_free", [])
        }
        for labels, value in tables.get(resource, []):
            key = (labels.get("instance", ""), labels.get("device", ""), labels.get("mountpoint", ""))
            node, _ = identity(ctx, labels)
            out.append(FilesystemRunway(node, *key, resource, number(value), or_absent(free.get(key))))
    out.sort(key=lambda f: (f.seconds_left, f.node, f.mountpoint, f.resource))
    return tuple(out), result.warnings

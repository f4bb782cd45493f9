"""Scrape targets Prometheus cannot reach: the "which target" behind series that stopped.

When a panel's series vanish, `up == 0` for the job that served them says why, and which
instance: a finding can then name it instead of leaving "stopped arriving" unexplained.
"""

from __future__ import annotations

from k8stop.queries.model.facts import DOWN_TARGET_HOLD, DownTarget
from k8stop.queries.model.sanitize import clean
from k8stop.queries.prom.combine import combine, number, split
from k8stop.queries.prom.context import PromContext


async def targets_down(ctx: PromContext) -> tuple[DownTarget, ...]:
    parts = {
        "down": ctx.catalog.render("targets.down", window=DOWN_TARGET_HOLD),
        "jobs": ctx.catalog.render("targets.per_job"),
    }
    tagged = split(await ctx.client.query(combine(parts)))
    per_job = {labels.get("job", ""): int(number(value)) for labels, value in tagged.get("jobs", [])}
    down = {(labels.get("job", ""), labels.get("instance", "")) for labels, _ in tagged.get("down", [])}
    return tuple(DownTarget(clean(job), clean(instance), max(per_job.get(job, 0), 1)) for job, instance in sorted(down))

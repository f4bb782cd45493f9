"""Scrape targets down (`up == 0`): one finding per job, naming its unreachable instances.

This is what explains a panel gone stale: the series stopped because Prometheus cannot reach
the target. Graded as kube-prometheus' TargetDown: a warning when more than 10 % of a job's
targets are down, info below (one of twenty node-exporters is worth knowing, not paging).
Never critical on its own: the missing data is the news, not a measured harm.
"""

from __future__ import annotations

from itertools import groupby

from k8stop.queries.model.facts import DOWN_TARGET_HOLD, DownTarget
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.rules import sources
from k8stop.queries.rules.alerts import component_of_job
from k8stop.queries.rules.evidence import EvidenceQueries

TARGET_DOWN_RULE = "targets.down"
WARN_SHARE = 0.10  # TargetDown: > 10 % of a job's targets
_NAMED = 3  # instances named in the title; the evidence lists them all


def _finding(job: str, down: list[DownTarget], q: EvidenceQueries) -> Finding:
    total = max(down[0].job_targets, len(down))
    share = len(down) / total
    names = ", ".join(t.instance for t in down[:_NAMED]) + (
        f" and {len(down) - _NAMED} more" if len(down) > _NAMED else ""
    )
    return Finding(
        id=f"{TARGET_DOWN_RULE}:{job}",
        component=component_of_job(job) or Component.OTHER,
        subject=job,
        severity=Level.WARNING if share > WARN_SHARE else Level.INFO,
        title=f"scrape target down: job {job}, {names} ({len(down)} of {total})",
        evidence=tuple(
            Evidence(
                q.promql("targets.down", {"job": job, "instance": t.instance}, window=DOWN_TARGET_HOLD),
                0.0,
                f"up == 0 for {DOWN_TARGET_HOLD}: Prometheus cannot scrape {t.instance}",
            )
            for t in down
        ),
        recommendation=(
            "Panels fed by this job show their last values as stale until it returns. The process is down, or "
            "the path to its metrics port fails (network policy, TLS, auth): Prometheus' /targets page shows the "
            f"scrape error. kube-prometheus TargetDown runbook: {sources.TARGET_DOWN}"
        ),
        magnitude=share / WARN_SHARE,
        labels=(("job", job), *(("instance", t.instance) for t in down)),
    )


def target_findings(snap: ClusterSnapshot, q: EvidenceQueries) -> list[Finding]:
    if snap.alerts is None:
        return []
    return [_finding(job, list(group), q) for job, group in groupby(snap.alerts.targets_down, key=lambda t: t.job)]

"""Grade every checked setting against the latest snapshot, and turn advice and warnings into findings.

Findings carry ids `config.<component>.<setting>` and the setting as users write it as their
subject, and land in the guided diagnosis step of the component they tune, next to the evidence
(APF rejections, etcd DB size, pod start-up) that made them a warning.
"""

from __future__ import annotations

from k8stop.queries.audit.table import SETTINGS, Ctx, Setting
from k8stop.queries.audit.tiers import snapshot_nodes
from k8stop.queries.config import Thresholds
from k8stop.queries.model.audit import AuditStatus, ConfigCheck
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot

# Which diagnosis step a component's settings belong to.
FINDING_COMPONENT = {
    "kube-apiserver": Component.APISERVER,
    "control-plane": Component.APISERVER,
    "etcd": Component.ETCD,
    "kube-controller-manager": Component.CONTROLLER_MANAGER,
    "kube-scheduler": Component.SCHEDULER,
    "kubelet": Component.KUBELET,
    "containerd": Component.KUBELET,
    "kube-proxy": Component.NETWORK,
    "Service": Component.NETWORK,
}


def grade(snap: ClusterSnapshot, t: Thresholds) -> tuple[ConfigCheck, ...]:
    """Every row of the table, in table order; empty when the audit has not run."""
    if snap.audit is None:
        return ()
    ctx = Ctx(snap.audit, snap, t, snapshot_nodes(snap))
    return tuple(_check(setting, ctx) for setting in SETTINGS)


def _check(setting: Setting, ctx: Ctx) -> ConfigCheck:
    verdict = setting.judge(ctx)
    return ConfigCheck(
        component=setting.component,
        setting=setting.setting,
        value=verdict.value,
        recommended=verdict.recommended,
        status=verdict.status,
        source=setting.source,
        detail=verdict.detail,
        default=setting.defaults,
        read=setting.read,
        by_size=by_size(setting),
    )


# One cluster per tier of the seed's 7.1 / 8.1 matrix, to show the recommendation as a function of size.
SIZE_EXAMPLES = ((10, "<=10"), (50, "11-99"), (500, "100-999"), (1000, "1000+"))


def by_size(setting: Setting) -> str:
    return "; ".join(f"{label} nodes: {setting.recommend(n)}" for n, label in SIZE_EXAMPLES)


def finding_id(check: ConfigCheck) -> str:
    return f"config.{check.component}.{check.setting.lstrip('-').replace(' ', '-')}"


def config_findings(snap: ClusterSnapshot, t: Thresholds) -> list[Finding]:
    """One finding per setting graded advice (info) or warn (warning)."""
    out = []
    for check in grade(snap, t):
        if check.status not in (AuditStatus.WARN, AuditStatus.ADVICE):
            continue
        warn = check.status is AuditStatus.WARN
        out.append(
            Finding(
                id=finding_id(check),
                component=FINDING_COMPONENT[check.component],
                subject=check.setting,
                severity=Level.WARNING if warn else Level.INFO,
                title=f"{check.component} {check.setting} is {check.value or 'unknown'}; "
                f"recommended {check.recommended}",
                evidence=(Evidence(f"config {check.component} {check.setting}", check.value, check.detail),),
                recommendation=f"{check.setting}: {check.recommended} for this cluster ({check.source}). "
                f"{check.detail}.",
            )
        )
    return out

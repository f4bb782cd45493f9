"""The one table of checked settings: component, setting as users write it, how it is read,
the recommendation by cluster size, the default per Kubernetes version, the source, and the rule
that grades it.

Sources: "seed N.N" is the tuning guide's section (/work/shared/seed); where the guide is wrong
or dated the upstream docs win and the row says so. A setting the guide names that does not exist
(or no longer applies) is graded "not applicable" with the reason, never reported as missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from k8stop.queries.audit import evidence
from k8stop.queries.audit.tiers import SIZING, Tier, tier_of, tier_text
from k8stop.queries.config import Thresholds
from k8stop.queries.model.audit import AuditFacts, AuditStatus, SettingsRead
from k8stop.queries.model.snapshot import ClusterSnapshot

APISERVER, ETCD, KCM, SCHEDULER = "kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler"
KUBELET, PROXY, CONTROL_PLANE, RUNTIME, SERVICE = "kubelet", "kube-proxy", "control-plane", "containerd", "Service"
GiB = 1024**3


@dataclass(frozen=True, slots=True)
class Ctx:
    facts: AuditFacts
    snap: ClusterSnapshot
    t: Thresholds
    nodes: int | None  # cluster size; None when no source counted the nodes

    @property
    def tier(self) -> Tier:
        return tier_of(self.nodes or 0)

    @property
    def size(self) -> str:
        return tier_text(self.nodes) if self.nodes else "cluster size unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    value: str
    recommended: str
    status: AuditStatus
    detail: str


@dataclass(frozen=True, slots=True)
class Setting:
    component: str
    setting: str  # as users write it
    read: str  # how k8stop reads it
    defaults: str  # the upstream default, per Kubernetes version where it changed
    source: str  # seed section; upstream docs where they differ
    recommend: Callable[[int], str]  # the recommendation for a cluster of N nodes
    judge: Callable[[Ctx], Verdict]


def _static(component: str) -> str:
    return f"{component} static pod command/args in kube-system (kubeadm ClusterConfiguration extraArgs if no pod)"


CONFIGZ = "kubelet live config: GET /api/v1/nodes/NAME/proxy/configz on a few sampled nodes (needs nodes/proxy)"
PROXY_CM = "kube-proxy ConfigMap kube-system/kube-proxy (KubeProxyConfiguration)"


# --- shared grading --------------------------------------------------------------------------


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip().strip('"'))
    except ValueError:
        return None


def _hidden(read: SettingsRead | None, component: str) -> str:
    if read is None:
        return f"{component} settings were not read"
    return read.missing


def _with_default(raw: str | None, default: str) -> str:
    return f"{raw}" if raw is not None else f"{default} (default)"


def _graded(short: bool, proof: str, why: str) -> tuple[AuditStatus, str]:
    """Below the recommendation: a warning with live evidence, advice without."""
    if not short:
        return AuditStatus.OK, why
    if proof:
        return AuditStatus.WARN, f"evidence: {proof}; {why}"  # evidence first: it is why this warns
    return AuditStatus.ADVICE, f"no live evidence that it hurts yet; {why}"


def _at_least(
    component: str,
    flag: str,
    default: float,
    want: Callable[[int], float],
    proof: Callable[[Ctx], str] = lambda ctx: "",
    why: str = "",
) -> Callable[[Ctx], Verdict]:
    """A numeric flag that should be at least `want(nodes)`."""

    def judge(ctx: Ctx) -> Verdict:
        read = ctx.facts.component(component)
        target = want(ctx.nodes or 0)
        recommended = f">= {target:g} ({ctx.size})"
        hidden = _hidden(read, component)
        if hidden:
            return Verdict("", recommended, AuditStatus.NOT_VISIBLE, hidden)
        assert read is not None
        raw = read.get(flag)
        value = _number(raw)
        if value is None:
            value = default
        status, detail = _graded(value < target, proof(ctx) if value < target else "", why or f"read from {read.where}")
        return Verdict(_with_default(raw, f"{default:g}"), recommended, status, detail)

    return judge


def _tiered(small: float, large: float, ultra: float | None = None) -> Callable[[int], float]:
    """The upstream default below 100 nodes, the seed's value from 100 (7.1 large), 1000+ (8.1)."""

    def want(nodes: int) -> float:
        tier = tier_of(nodes)
        if tier is Tier.ULTRA and ultra is not None:
            return ultra
        return large if tier in (Tier.LARGE, Tier.ULTRA) else small

    return want


def _not_applicable(value: str, why: str) -> Callable[[Ctx], Verdict]:
    def judge(ctx: Ctx) -> Verdict:
        return Verdict(value, "-", AuditStatus.NOT_APPLICABLE, why)

    return judge


def _not_visible(why: str) -> Callable[[Ctx], Verdict]:
    def judge(ctx: Ctx) -> Verdict:
        return Verdict("", "-", AuditStatus.NOT_VISIBLE, why)

    return judge


# --- kube-apiserver (seed 2.1) ---------------------------------------------------------------

INFLIGHT_WANT = {"--max-requests-inflight": _tiered(400, 3000), "--max-mutating-requests-inflight": _tiered(200, 1000)}
INFLIGHT_DEFAULT = {"--max-requests-inflight": 400.0, "--max-mutating-requests-inflight": 200.0}
APF_NOTE = (
    "with API Priority and Fairness (on by default since 1.20, GA 1.29) the two inflight limits add up to the "
    "server's total seats, shared among priority levels: raise the sum, not one kind"
)


def _inflight(flag: str) -> Callable[[Ctx], Verdict]:
    def judge(ctx: Ctx) -> Verdict:
        read = ctx.facts.component(APISERVER)
        target = INFLIGHT_WANT[flag](ctx.nodes or 0)
        recommended = f">= {target:g} ({ctx.size})"
        limits = {f: _number(read.get(f)) if read is not None else None for f in INFLIGHT_DEFAULT}
        readonly = limits["--max-requests-inflight"] or INFLIGHT_DEFAULT["--max-requests-inflight"]
        mutating = limits["--max-mutating-requests-inflight"] or INFLIGHT_DEFAULT["--max-mutating-requests-inflight"]
        proof = evidence.apf_pressure(ctx.snap, readonly, mutating)
        hidden = _hidden(read, APISERVER)
        seats = ctx.facts.prom.apf_total_seats
        if hidden and seats is not None:
            # Prometheus still shows the sum of both flags as the server's total seats.
            total = sum(want(ctx.nodes or 0) for want in INFLIGHT_WANT.values())
            status, detail = _graded(seats < total, proof, f"flags not visible ({hidden}); {APF_NOTE}")
            return Verdict(
                f"~{seats:.0f} seats in total (Prometheus)", f"{recommended}; total >= {total:g}", status, detail
            )
        if hidden:
            return Verdict("", recommended, AuditStatus.NOT_VISIBLE, hidden)
        assert read is not None
        raw = read.get(flag)
        value = limits[flag] or INFLIGHT_DEFAULT[flag]
        apf_off = (read.get("--enable-priority-and-fairness") or "true").lower() == "false"
        note = "APF is off: this is a plain limit per kind" if apf_off else APF_NOTE
        status, detail = _graded(value < target, proof, f"{note}; read from {read.where}")
        return Verdict(_with_default(raw, f"{INFLIGHT_DEFAULT[flag]:g}"), recommended, status, detail)

    return judge


def _watch_cache(ctx: Ctx) -> Verdict:
    read = ctx.facts.component(APISERVER)
    hidden = _hidden(read, APISERVER)
    recommended = "unset (non-zero sizes are all equivalent); never 0"
    if hidden:
        return Verdict("", recommended, AuditStatus.NOT_VISIBLE, hidden)
    assert read is not None
    sizes = read.get("--watch-cache-sizes")
    disabled = (read.get("--watch-cache") or "true").lower() == "false" or (
        sizes is not None and re.search(r"#0+(,|$)", sizes) is not None
    )
    if disabled:
        return Verdict(
            sizes or "--watch-cache=false",
            recommended,
            AuditStatus.ADVICE,
            "a watch cache is disabled: every LIST and WATCH of that resource goes to etcd",
        )
    return Verdict(
        sizes or "(default)",
        recommended,
        AuditStatus.NOT_APPLICABLE if sizes else AuditStatus.OK,
        "the seed's per-resource sizes (2.1) are dated: since 1.19 the watch cache sizes itself to recent "
        "history and upstream docs say all non-zero sizes are equivalent; only 0 (disabled) matters",
    )


def _apf_enabled(ctx: Ctx) -> Verdict:
    read = ctx.facts.component(APISERVER)
    hidden = _hidden(read, APISERVER)
    if hidden:
        return Verdict("", "true", AuditStatus.NOT_VISIBLE, hidden)
    assert read is not None
    raw = read.get("--enable-priority-and-fairness")
    off = (raw or "true").lower() == "false"
    return Verdict(
        _with_default(raw, "true"),
        "true",
        AuditStatus.ADVICE if off else AuditStatus.OK,
        "without APF one noisy client can starve the rest; with it the inflight limits become seats"
        if off
        else APF_NOTE,
    )


# --- etcd (seed 2.2, 8.1) --------------------------------------------------------------------

QUOTA_DEFAULT = 2 * GiB


def _quota_want(nodes: int) -> float:
    return 8 * GiB if tier_of(nodes) in (Tier.LARGE, Tier.ULTRA) else QUOTA_DEFAULT


def _gib(n: float) -> str:
    return f"{n / GiB:.3g} GiB"


def _etcd_quota(ctx: Ctx) -> Verdict:
    read = ctx.facts.component(ETCD)
    want = _quota_want(ctx.nodes or 0)
    recommended = f">= {_gib(want)} ({ctx.size}); etcd advises at most 8 GiB"
    prom_quota = ctx.facts.prom.etcd_quota_bytes
    hidden = _hidden(read, ETCD)
    raw = read.get("--quota-backend-bytes") if read is not None and not hidden else None
    if prom_quota is not None:
        quota, where = prom_quota, "etcd_server_quota_backend_bytes (Prometheus)"
    elif not hidden:
        quota, where = _number(raw) or QUOTA_DEFAULT, read.where if read else ""
    else:
        return Verdict("", recommended, AuditStatus.NOT_VISIBLE, hidden)
    proof = evidence.etcd_db_pressure(ctx.snap, quota, ctx.t)
    status, detail = _graded(
        quota < want, proof, f"read from {where}; at the quota etcd raises NOSPACE and the cluster turns read-only"
    )
    if quota >= want and proof:
        status, detail = AuditStatus.WARN, f"quota is fine but {proof}: compact and defragment, find what grows"
    value = _gib(quota) + (" (default)" if raw is None and prom_quota is None else "")
    return Verdict(value, recommended, status, detail)


def _etcd_flag_equals(flag: str, default: float, unit: str) -> Callable[[Ctx], Verdict]:
    """A timing flag the seed sets to etcd's own default: fine unless changed without reason."""

    def judge(ctx: Ctx) -> Verdict:
        read = ctx.facts.component(ETCD)
        hidden = _hidden(read, ETCD)
        recommended = f"{default:g}{unit} (default; seed 2.2 agrees)"
        if hidden:
            return Verdict("", recommended, AuditStatus.NOT_VISIBLE, hidden)
        assert read is not None
        raw = read.get(flag)
        heartbeat = _number(read.get("--heartbeat-interval")) or 100.0
        election = _number(read.get("--election-timeout")) or 1000.0
        if election < 10 * heartbeat:
            return Verdict(
                _with_default(raw, f"{default:g}"),
                recommended,
                AuditStatus.ADVICE,
                f"election timeout {election:g} ms is under 10x the heartbeat {heartbeat:g} ms (etcd tuning guide): "
                "expect spurious leader elections",
            )
        return Verdict(_with_default(raw, f"{default:g}"), recommended, AuditStatus.OK, f"read from {read.where}")

    return judge


def _etcd_members(ctx: Ctx) -> Verdict:
    want = SIZING[ctx.tier].etcd_members
    recommended = f"{want} ({ctx.size}); odd, at most 5 voting members"
    facts = ctx.facts
    if facts.prom.etcd_members:
        count, where = facts.prom.etcd_members, "members scraped by Prometheus (etcd_server_has_leader)"
    elif facts.etcd_initial_cluster:
        count, where = facts.etcd_initial_cluster, "etcd --initial-cluster"
    elif facts.etcd_pods:
        count, where = facts.etcd_pods, "etcd static pods in kube-system"
    else:
        why = facts.static_pods_missing or "no etcd pod and no etcd metrics (external or managed etcd)"
        return Verdict("", recommended, AuditStatus.NOT_VISIBLE, why)
    source = f"from {where}"
    if count < want:
        status = AuditStatus.WARN if count == 1 and (ctx.nodes or 0) > 10 else AuditStatus.ADVICE
        tolerance = "no member may fail" if count < 3 else f"{(count - 1) // 2} member(s) may fail"
        return Verdict(str(count), recommended, status, f"{source}; {tolerance}: one disk or host loss stops writes")
    if count % 2 == 0:
        return Verdict(
            str(count),
            recommended,
            AuditStatus.ADVICE,
            f"{source}; an even count tolerates no more failures than one less",
        )
    if count > 5:
        return Verdict(
            str(count),
            recommended,
            AuditStatus.ADVICE,
            f"{source}; the seed's 8.1 asks for 9, but every write waits for a majority: etcd FAQ advises 5",
        )
    return Verdict(str(count), recommended, AuditStatus.OK, source)


# --- kube-controller-manager (seed 2.3) -------------------------------------------------------


def _kcm_concurrency(flag: str, default: float, seed: float, queues: tuple[str, ...]) -> Setting:
    return Setting(
        KCM,
        flag,
        _static(KCM),
        f"{default:g} (all supported versions)",
        "seed 2.3",
        lambda n: f">= {_tiered(default, seed)(n):g}",
        _at_least(
            KCM,
            flag,
            default,
            _tiered(default, seed),
            lambda ctx: evidence.workqueue_backlog(ctx.snap, queues, ctx.t),
        ),
    )


# --- kube-scheduler (seed 2.4) ----------------------------------------------------------------

NO_SUCH_FLAG = "kube-scheduler has no such flag or config field (seed 2.4 is wrong); nothing to set"


def _percentage_of_nodes(nodes: int) -> float:
    """The adaptive default (percentageOfNodesToScore 0): 50 % minus 1 % per 125 nodes, at least 5 %."""
    return max(5.0, 50.0 - nodes / 125.0)


def _adaptive_text(nodes: int) -> str:
    # Below 100 nodes (minFeasibleNodesToFind) the scheduler scores every node.
    return "all nodes" if nodes < 100 else f"adaptive {_percentage_of_nodes(nodes):.0f} %"


def _score_percentage(ctx: Ctx) -> Verdict:
    return Verdict(
        "(config file)",
        f"unset: {_adaptive_text(ctx.nodes or 0)} ({ctx.size})",
        AuditStatus.NOT_APPLICABLE,
        "not a flag: percentageOfNodesToScore is a field of the KubeSchedulerConfiguration file (--config), which "
        "no API serves; left at 0 the scheduler adapts it to the cluster size (a fixed 50 % as in seed 2.4 scores "
        "more nodes than needed on large clusters)",
    )


# --- kubelet (seed 3.1) -----------------------------------------------------------------------


def _kubelet_values(ctx: Ctx, key: str) -> tuple[list[tuple[str, str | None]], str]:
    """(node, value) for each sampled kubelet that answered, and why none did."""
    answered = [(k.where, k.get(key)) for k in ctx.facts.kubelets if not k.missing]
    if answered:
        return answered, ""
    reasons = {k.missing for k in ctx.facts.kubelets}
    return [], "; ".join(sorted(reasons)) or "no node sampled"


def _kubelet(
    key: str, default: str, bad: Callable[[str], bool], recommended: str, proof: Callable[[Ctx], str], why: str
) -> Callable[[Ctx], Verdict]:
    def judge(ctx: Ctx) -> Verdict:
        answered, hidden = _kubelet_values(ctx, key)
        if hidden:
            return Verdict("", recommended, AuditStatus.NOT_VISIBLE, hidden)
        values = [v if v is not None else default for _, v in answered]
        off = [node for (node, _), v in zip(answered, values) if bad(v)]
        shown = values[0] if len(set(values)) == 1 else " / ".join(sorted(set(values)))
        sampled = ", ".join(node for node, _ in answered)
        status, detail = _graded(bool(off), proof(ctx) if off else "", f"{why} (sampled {sampled})")
        if off and len(off) < len(answered):
            detail += f"; on {len(off)} of {len(answered)} sampled nodes"
        return Verdict(shown, recommended, status, detail)

    return judge


def _reserved(key: str) -> Callable[[Ctx], Verdict]:
    return _kubelet(
        key,
        "{}",
        lambda v: v in ("", "{}"),
        "cpu 500m, memory 1Gi (seed 3.1)",
        lambda ctx: "",
        "with nothing reserved, system daemons and the kubelet compete with pods for CPU and memory",
    )


def _eviction_memory_low(value: str) -> bool:
    match = re.search(r"memory\.available=(\d+)(Mi|Gi)", value)
    if match is None:
        return False
    mib = int(match.group(1)) * (1024 if match.group(2) == "Gi" else 1)
    return mib < 500


# --- kube-proxy (seed 4.2) --------------------------------------------------------------------


def _proxy_mode(ctx: Ctx) -> Verdict:
    read = ctx.facts.component(PROXY)
    big = ctx.tier in (Tier.LARGE, Tier.ULTRA)
    recommended = (
        "ipvs (seed 4.2) or nftables (1.31+, upstream)"
        if big
        else "iptables is fine below 100 nodes; nftables on 1.31+"
    )
    hidden = _hidden(read, PROXY)
    if hidden:
        return Verdict("", recommended, AuditStatus.NOT_VISIBLE, hidden)
    assert read is not None
    raw = read.get("mode")
    mode = raw or "iptables"
    proof = evidence.conntrack_pressure(ctx.facts.prom.conntrack_used_max)
    status, detail = _graded(
        big and mode == "iptables",
        "",
        "iptables rules are rewritten in full on every sync and grow with services x endpoints; "
        f"read from {read.where}",
    )
    if proof:
        detail += f"; also {proof}"
    return Verdict(mode + (" (default)" if not raw else ""), recommended, status, detail)


def _min_sync(ctx: Ctx) -> Verdict:
    read = ctx.facts.component(PROXY)
    recommended = "1s (default) or more on large clusters"
    hidden = _hidden(read, PROXY)
    if hidden:
        return Verdict("", recommended, AuditStatus.NOT_VISIBLE, hidden)
    assert read is not None
    mode = read.get("mode") or "iptables"
    key = f"{mode if mode in ('ipvs', 'nftables') else 'iptables'}.minSyncPeriod"
    raw = read.get(key)
    zero = raw is not None and re.fullmatch(r"0+(s|ms)?|0s", raw.strip()) is not None
    big = ctx.tier in (Tier.LARGE, Tier.ULTRA)
    if zero and big:
        return Verdict(
            raw or "",
            recommended,
            AuditStatus.ADVICE,
            f"{key} 0s (as in seed 4.2) resyncs on every endpoint change: on a large cluster kube-proxy then "
            "spends its time rewriting rules; upstream's default is 1s",
        )
    return Verdict(_with_default(raw, "1s"), recommended, AuditStatus.OK, f"read from {read.where}")


def _conntrack(ctx: Ctx) -> Verdict:
    read = ctx.facts.component(PROXY)
    limit, used = ctx.facts.prom.conntrack_limit, ctx.facts.prom.conntrack_used_max
    recommended = "default (32768 per core, at least 131072); raise when the table fills"
    raw = read.get("conntrack.maxPerCore") if read is not None and not read.missing else None
    proof = evidence.conntrack_pressure(used)
    parts = []
    if limit is not None:
        parts.append(f"smallest node nf_conntrack_max {limit:.0f} (Prometheus)")
    if used is not None:
        parts.append(f"fullest table {used:.0%}")
    if (read is None or read.missing) and limit is None:
        return Verdict("", recommended, AuditStatus.NOT_VISIBLE, _hidden(read, PROXY) or "no conntrack metrics")
    value = _with_default(raw, "32768") + " per core"
    if proof:
        return Verdict(value, recommended, AuditStatus.WARN, "; ".join(parts) + f"; {proof}")
    return Verdict(value, recommended, AuditStatus.OK, "; ".join(parts) or f"read from {read.where if read else ''}")


# --- sizing (seed 7.1, 8.1) -------------------------------------------------------------------


def _cp_nodes(ctx: Ctx) -> tuple[list[tuple[str, float, float]], str]:
    nodes = ctx.facts.control_plane_nodes or ctx.facts.prom.control_plane_nodes
    where = "control-plane nodes (kube API)" if ctx.facts.control_plane_nodes else "kube-state-metrics"
    return [(n.name, n.cpu_cores, n.memory_bytes) for n in nodes], where


def _sizing(kind: str) -> Callable[[Ctx], Verdict]:
    def judge(ctx: Ctx) -> Verdict:
        sizing = SIZING[ctx.tier]
        nodes, where = _cp_nodes(ctx)
        if kind == "count":
            recommended = f"{sizing.control_plane_nodes} ({ctx.size}, {sizing.source})"
        elif kind == "cpu":
            recommended = f">= {sizing.cpu_cores:g} cores each ({sizing.text})"
        else:
            recommended = f">= {_gib(sizing.memory_bytes)} each ({sizing.text})"
        if not nodes:
            why = ctx.facts.control_plane_nodes_missing or "no node carries node-role.kubernetes.io/control-plane"
            return Verdict("", recommended, AuditStatus.NOT_VISIBLE, f"{why} (a managed control plane hides its nodes)")
        names = tuple(n for n, _, _ in nodes)
        proof = evidence.control_plane_hot(ctx.snap, names, ctx.t)
        if kind == "count":
            value, short = str(len(nodes)), len(nodes) < sizing.control_plane_nodes
        elif kind == "cpu":
            low = min(c for _, c, _ in nodes)
            value, short = f"{low:g} cores (smallest of {len(nodes)})", low < sizing.cpu_cores
        else:
            low = min(m for _, _, m in nodes)
            value, short = f"{_gib(low)} (smallest of {len(nodes)})", low < sizing.memory_bytes * 0.95
        status, detail = _graded(short, proof, f"from {where}: {', '.join(names)}")
        return Verdict(value, recommended, status, detail)

    return judge


# --- the table --------------------------------------------------------------------------------

SETTINGS: tuple[Setting, ...] = (
    Setting(
        APISERVER,
        "--max-requests-inflight",
        _static(APISERVER) + "; Prometheus apiserver_flowcontrol_nominal_limit_seats when hidden",
        "400 (all versions)",
        "seed 2.1 (3000); upstream flow-control docs: with APF the two limits are the total seats",
        lambda n: f">= {INFLIGHT_WANT['--max-requests-inflight'](n):g}",
        _inflight("--max-requests-inflight"),
    ),
    Setting(
        APISERVER,
        "--max-mutating-requests-inflight",
        _static(APISERVER) + "; Prometheus apiserver_flowcontrol_nominal_limit_seats when hidden",
        "200 (all versions)",
        "seed 2.1 (1000); upstream flow-control docs",
        lambda n: f">= {INFLIGHT_WANT['--max-mutating-requests-inflight'](n):g}",
        _inflight("--max-mutating-requests-inflight"),
    ),
    Setting(
        APISERVER,
        "--enable-priority-and-fairness",
        _static(APISERVER),
        "true since 1.20 (beta), GA 1.29",
        "upstream flow-control docs (the seed predates APF)",
        lambda n: "true",
        _apf_enabled,
    ),
    Setting(
        APISERVER,
        "--watch-cache-sizes",
        _static(APISERVER),
        "unset: every resource cached, sized dynamically (1.19+)",
        "seed 2.1 (per-resource sizes); upstream kube-apiserver reference: non-zero sizes are equivalent",
        lambda n: "unset",
        _watch_cache,
    ),
    Setting(
        ETCD,
        "--quota-backend-bytes",
        _static(ETCD) + "; Prometheus etcd_server_quota_backend_bytes",
        "2 GiB (etcd 3.4, 3.5)",
        "seed 2.2 / 8.1 (8 GiB); etcd docs (max 8 GiB suggested)",
        lambda n: f">= {_gib(_quota_want(n))}",
        _etcd_quota,
    ),
    Setting(
        ETCD,
        "--heartbeat-interval",
        _static(ETCD),
        "100 ms",
        "seed 2.2 (100); etcd tuning guide (about the peer RTT)",
        lambda n: "100",
        _etcd_flag_equals("--heartbeat-interval", 100, " ms"),
    ),
    Setting(
        ETCD,
        "--election-timeout",
        _static(ETCD),
        "1000 ms",
        "seed 2.2 (1000); etcd tuning guide (>= 10x heartbeat)",
        lambda n: "1000",
        _etcd_flag_equals("--election-timeout", 1000, " ms"),
    ),
    Setting(
        ETCD,
        "--auto-compaction-retention",
        _static(ETCD),
        "0 (off) in etcd; kube-apiserver compacts every 5 min",
        "seed 2.2 (8h); kube-apiserver --etcd-compaction-interval (5m)",
        lambda n: "-",
        _not_applicable(
            "-",
            "kube-apiserver already compacts etcd every 5 minutes (--etcd-compaction-interval); etcd's own "
            "auto-compaction is not needed for Kubernetes",
        ),
    ),
    Setting(
        ETCD,
        "--snapshot-count",
        _static(ETCD),
        "100000 (etcd 3.2+; 10000 before)",
        "seed 2.2 / 8.1 (10000, the etcd < 3.2 default); etcd docs",
        lambda n: "100000 (lower only to save etcd memory)",
        _not_applicable(
            "-",
            "the seed's 10000 was etcd's default before 3.2; the current default 100000 is right unless etcd "
            "memory is short",
        ),
    ),
    _kcm_concurrency("--concurrent-deployment-syncs", 5, 10, ("deployment",)),
    _kcm_concurrency("--concurrent-replicaset-syncs", 5, 10, ("replicaset",)),
    _kcm_concurrency("--concurrent-endpoint-syncs", 5, 10, ("endpoint",)),
    _kcm_concurrency("--concurrent-gc-syncs", 20, 30, ("garbage_collector",)),
    _kcm_concurrency("--concurrent-namespace-syncs", 10, 10, ("namespace",)),
    _kcm_concurrency("--concurrent-service-syncs", 1, 2, ("service",)),
    Setting(
        KCM,
        "--kube-api-qps",
        _static(KCM),
        "20 (burst 30)",
        "upstream kube-controller-manager reference; SIG-scalability runs large clusters with 100",
        lambda n: f">= {_tiered(20, 100)(n):g}",
        _at_least(
            KCM,
            "--kube-api-qps",
            20,
            _tiered(20, 100),
            lambda ctx: evidence.workqueue_backlog(ctx.snap, ("",), ctx.t),
            "every controller shares this client rate limit to the API server",
        ),
    ),
    Setting(
        SCHEDULER,
        "percentage-of-nodes-to-score",
        "KubeSchedulerConfiguration file on the control-plane node (--config)",
        "0 = adaptive: every node below 100 nodes, then 50 % - nodes/125, at least 5 %",
        "seed 2.4 (as a flag, 50); upstream scheduler-perf-tuning docs",
        lambda n: f"unset ({_adaptive_text(n)})",
        _score_percentage,
    ),
    *(
        Setting(
            SCHEDULER,
            flag,
            "-",
            "-",
            "seed 2.4; upstream kube-scheduler reference (no such flag)",
            lambda n: "-",
            _not_applicable("-", NO_SUCH_FLAG),
        )
        for flag in ("scheduling-rate-limit", "cache-internal", "extenders-cache-ttl")
    ),
    Setting(
        KUBELET,
        "serializeImagePulls",
        CONFIGZ,
        "true (all versions); maxParallelImagePulls from 1.27",
        "seed 3.1 (false); upstream kubelet config reference",
        lambda n: "false",
        _kubelet(
            "serializeImagePulls",
            "true",
            lambda v: v.lower() == "true",
            "false (with maxParallelImagePulls, 1.27+)",
            lambda ctx: evidence.slow_pod_startup(ctx.snap, ctx.t),
            "one image pull at a time per node: a large image delays every pod behind it",
        ),
    ),
    Setting(
        KUBELET,
        "kubeReserved",
        CONFIGZ,
        "none",
        "seed 3.1 (cpu 500m, memory 1Gi); upstream reserve-compute-resources",
        lambda n: "cpu 500m, memory 1Gi",
        _reserved("kubeReserved"),
    ),
    Setting(
        KUBELET,
        "systemReserved",
        CONFIGZ,
        "none",
        "seed 3.1 (cpu 500m, memory 1Gi); upstream reserve-compute-resources",
        lambda n: "cpu 500m, memory 1Gi",
        _reserved("systemReserved"),
    ),
    Setting(
        KUBELET,
        "evictionHard",
        CONFIGZ,
        "memory.available<100Mi, nodefs.available<10%, imagefs.available<15%, nodefs.inodesFree<5%",
        "seed 3.1 (memory.available 500Mi)",
        lambda n: "memory.available >= 500Mi",
        _kubelet(
            "evictionHard",
            "memory.available=100Mi",
            _eviction_memory_low,
            "memory.available 500Mi (seed 3.1)",
            lambda ctx: "",
            "100Mi leaves the kernel's OOM killer to act before the kubelet evicts",
        ),
    ),
    Setting(
        RUNTIME,
        "max_concurrent_downloads",
        "containerd config.toml on each node",
        "3",
        "seed 8.3 (10)",
        lambda n: "10 (seed 8.3)",
        _not_visible("containerd's config.toml is a file on each node; no Kubernetes API serves it"),
    ),
    Setting(
        PROXY,
        "mode",
        PROXY_CM,
        "iptables on Linux (nftables 1.29 alpha, 1.31 beta, 1.33 GA)",
        "seed 4.2 (ipvs); upstream virtual-ips docs (nftables)",
        lambda n: "ipvs or nftables" if n >= 100 else "iptables",
        _proxy_mode,
    ),
    Setting(
        PROXY,
        "minSyncPeriod",
        PROXY_CM,
        "1s",
        "seed 4.2 (0s); upstream kube-proxy config reference",
        lambda n: "1s",
        _min_sync,
    ),
    Setting(
        PROXY,
        "conntrack.maxPerCore",
        PROXY_CM + "; Prometheus node_nf_conntrack_entries_limit",
        "32768 per core, min 131072",
        "seed 3.1 (sysctls); node-mixin NodeHighNumberConntrackEntriesUsed",
        lambda n: "default; raise when a table fills",
        _conntrack,
    ),
    Setting(
        SERVICE,
        "topologyKeys",
        "-",
        "removed in 1.22",
        "seed 4.2; upstream: topology-aware routing (service.kubernetes.io/topology-mode) or trafficDistribution",
        lambda n: "-",
        _not_applicable(
            "-",
            "Service.spec.topologyKeys was removed in 1.22: use the service.kubernetes.io/topology-mode: Auto "
            "annotation (1.27+) or spec.trafficDistribution (1.31+)",
        ),
    ),
    Setting(
        CONTROL_PLANE,
        "node count",
        "nodes labelled node-role.kubernetes.io/control-plane (or master); kube-state-metrics",
        "-",
        "seed 7.1 (1 small, 3 medium, 5 large)",
        lambda n: str(SIZING[tier_of(n)].control_plane_nodes),
        _sizing("count"),
    ),
    Setting(
        CONTROL_PLANE,
        "CPU per node",
        "control-plane nodes' capacity; kube-state-metrics kube_node_status_capacity",
        "-",
        "seed 7.1 / 8.1",
        lambda n: f">= {SIZING[tier_of(n)].cpu_cores:g} cores",
        _sizing("cpu"),
    ),
    Setting(
        CONTROL_PLANE,
        "memory per node",
        "control-plane nodes' capacity; kube-state-metrics kube_node_status_capacity",
        "-",
        "seed 7.1 / 8.1",
        lambda n: f">= {_gib(SIZING[tier_of(n)].memory_bytes)}",
        _sizing("memory"),
    ),
    Setting(
        ETCD,
        "member count",
        "Prometheus (members scraped), etcd --initial-cluster, etcd static pods",
        "-",
        "seed 7.1 (3 medium, 5 large); seed 8.1 says 9, the etcd FAQ advises at most 5",
        lambda n: str(SIZING[tier_of(n)].etcd_members),
        _etcd_members,
    ),
)

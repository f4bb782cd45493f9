"""Turn a Scenario into OpenMetrics history that promtool can backfill.

Series-major order (every sample of one series, oldest first, then the next series) keeps
metric families contiguous as OpenMetrics requires and lets promtool's appender accept
each series in time order. Series are generated and written one at a time, so a
5,000-node scenario streams instead of building everything in memory.

Counters are linear in time (float values), so rate() and increase() over any window
inside one phase are exact; histogram buckets are counters at rate x cumulative fraction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal

import histograms as h
from conventions import Labels
from scenario import ApiRequest, Fleet, Scenario

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")


@dataclass(frozen=True, slots=True)
class Series:
    family: str
    type: Literal["counter", "gauge", "histogram"]
    name: str
    labels: str  # rendered `{a="b",...}`
    kind: Literal["rate", "level"]
    value: float  # counter: increase per second; gauge: value at the anchor
    slope: float = 0.0  # gauge change per second
    base: float = 0.0  # counter value at the start of the history
    flap: float = 0.0  # gauge: seconds between switches to `flap_value` and back (0: no flapping)
    flap_value: float = 0.0


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(labels: Labels) -> str:
    # Prometheus treats an empty label as absent; writing it would only bloat the file.
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels if v) + "}"


def counter(family: str, labels: Labels, rate: float, base: float = 0.0) -> Series:
    return Series(family, "counter", f"{family}_total", render(labels), "rate", rate, base=base)


def gauge(family: str, labels: Labels, value: float, slope: float = 0.0) -> Series:
    return Series(family, "gauge", family, render(labels), "level", value, slope)


def flapping(family: str, labels: Labels, value: float, flap: float, flap_value: float) -> Series:
    """A gauge at `value`, switching to `flap_value` and back every `flap` seconds."""
    return Series(family, "gauge", family, render(labels), "level", value, flap=flap, flap_value=flap_value)


def histogram(family: str, labels: Labels, rate: float, dist: h.Distribution) -> Iterator[Series]:
    for le, frac in dist:
        yield Series(
            family, "histogram", f"{family}_bucket", render(labels + (("le", h.format_le(le)),)), "rate", rate * frac
        )
    # Mean from bucket midpoints; only `_sum / _count` style panels read it.
    mean, prev_le, prev_frac = 0.0, 0.0, 0.0
    top = max(le for le, _ in dist if le != h.INF)
    for le, frac in dist:
        mid = top * 1.5 if le == h.INF else (prev_le + le) / 2
        mean += mid * (frac - prev_frac)
        prev_le, prev_frac = (le if le != h.INF else prev_le), frac
    yield Series(family, "histogram", f"{family}_sum", render(labels), "rate", rate * mean)
    yield Series(family, "histogram", f"{family}_count", render(labels), "rate", rate)


# --- components ---------------------------------------------------------------------------


def apiserver(s: Scenario, targets: list[Labels] | None = None) -> Iterator[Series]:
    """Every API server's series as Prometheus labels them; `targets=[()]` gives one instance's
    own /metrics (no target labels, its 1/n share of the traffic), as the kube-API test server serves it."""
    conv = s.labels
    n = len(s.apiserver_ips)
    if targets is None:
        targets = [conv.apiserver(ip) + conv.external for ip in s.apiserver_ips]
    for t in targets:
        yield gauge("up", t, 1.0)
        yield gauge("kubernetes_build_info", t + _build_labels(s), 1.0)
    histograms = [("apiserver_request_duration_seconds", h.APISERVER_LEGACY_BUCKETS, True)]
    if s.apiserver_histogram in ("sli", "slo"):  # 1.26+ names it _sli_, 1.23-1.25 _slo_
        histograms.insert(0, (s.apiserver_metric, h.APISERVER_SLI_BUCKETS, False))
    for family, bounds, has_dry_run in histograms:
        for r in s.all_requests():
            # Only the classic duration histogram includes admission webhook time.
            dist = (s.with_webhooks(r) if has_dry_run else r).distribution(bounds)
            for t in targets:
                yield from histogram(family, _request_labels(t, r, has_dry_run), r.qps / n, dist)
    for r in s.all_requests():
        for code, rate in r.codes():
            for t in targets:
                yield counter("apiserver_request", _request_labels(t, r, True) + (("code", code),), rate / n)
    for t in targets:
        yield gauge("apiserver_current_inflight_requests", t + (("request_kind", "mutating"),), s.inflight_mutating)
        yield gauge("apiserver_current_inflight_requests", t + (("request_kind", "readOnly"),), s.inflight_readonly)
    for family, attr in (
        ("apiserver_flowcontrol_current_executing_seats", "executing_seats"),
        ("apiserver_flowcontrol_current_inqueue_requests", "inqueue"),
    ):
        for a in s.apf:
            for t in targets:
                yield gauge(
                    family, t + (("flow_schema", a.flow_schema), ("priority_level", a.priority_level)), getattr(a, attr)
                )
    for a in s.apf:
        for t in targets:
            yield gauge(
                "apiserver_flowcontrol_nominal_limit_seats",
                t + (("priority_level", a.priority_level),),
                a.nominal_limit_seats,
            )
    for a in s.apf:
        for t in targets:
            yield counter(
                "apiserver_flowcontrol_dispatched_requests",
                t + (("flow_schema", a.flow_schema), ("priority_level", a.priority_level)),
                a.dispatched_rate,
            )
    for a in s.apf:
        dist = h.distribution(h.APF_WAIT_BUCKETS, a.wait_p99)
        for t in targets:
            labels = t + (("execute", "true"), ("flow_schema", a.flow_schema), ("priority_level", a.priority_level))
            yield from histogram("apiserver_flowcontrol_request_wait_duration_seconds", labels, a.dispatched_rate, dist)
    objects = "etcd_object_counts" if s.legacy_object_counts else "apiserver_storage_objects"
    for resource, count in s.objects:
        for t in targets:
            yield gauge(objects, t + (("resource", resource),), count)
    for a in s.apf:
        for t in targets:
            yield counter(
                "apiserver_flowcontrol_rejected_requests",
                t + (("flow_schema", a.flow_schema), ("priority_level", a.priority_level), ("reason", a.reason)),
                a.rejected_rate,
            )


def webhooks(s: Scenario) -> Iterator[Series]:
    """Admission webhook latency, calls by code and rejections, as every API server reports them."""
    conv = s.labels
    n = len(s.apiserver_ips)
    targets = [conv.apiserver(ip) + conv.external for ip in s.apiserver_ips]
    calls = [(w, op, s.webhook_calls(w, op)) for w in s.webhooks for op in w.operations]
    for w, op, rate in calls:
        labels = (("name", w.name), ("operation", op), ("rejected", "false"), ("type", w.type))
        dist = h.distribution(h.WEBHOOK_BUCKETS, w.p99)
        for t in targets:
            yield from histogram("apiserver_admission_webhook_admission_duration_seconds", t + labels, rate / n, dist)
    share = {(w.name, op): rate / total for w, op, rate in calls if (total := s.webhook_calls_total(w)) > 0}
    for w, op, rate in calls:
        failed = w.failure_rate * share.get((w.name, op), 0.0)
        for code, value in (("200", rate - failed), ("500", failed)):
            labels = (("code", code), ("name", w.name), ("operation", op), ("rejected", str(code != "200").lower()))
            for t in targets:
                yield counter("apiserver_admission_webhook_request", t + labels + (("type", w.type),), value / n)
    # A counter without the _total suffix (k8s names it so): written as a gauge that only grows.
    for w, op, _ in calls:
        for error_type, rate in (("no_error", w.rejection_rate), ("calling_webhook_error", w.failure_rate)):
            labels = (("error_type", error_type), ("name", w.name), ("operation", op), ("rejection_code", "400"))
            value = rate * share.get((w.name, op), 0.0) / n
            for t in targets:
                family = "apiserver_admission_webhook_rejection_count"
                yield Series(family, "gauge", family, render(t + labels + (("type", w.type),)), "rate", value)


def coredns(s: Scenario) -> Iterator[Series]:
    conv = s.labels
    targets = [conv.coredns(ip) + conv.external for ip in s.coredns_ips]
    for t in targets:
        yield gauge("up", t, 1.0)
    for d in s.dns:
        labels = (("server", d.server), ("type", "A"), ("zone", d.zone))
        for t in targets:
            yield from histogram(
                "coredns_dns_request_duration_seconds", t + labels, d.qps, h.distribution(h.DNS_BUCKETS, d.p99)
            )
    for d in s.dns:
        ok = 1.0 - d.servfail_ratio - d.refused_ratio - d.nxdomain_ratio
        for rcode, share in (
            ("NOERROR", ok),
            ("NXDOMAIN", d.nxdomain_ratio),
            ("SERVFAIL", d.servfail_ratio),
            ("REFUSED", d.refused_ratio),
        ):
            for t in targets:
                labels = (("plugin", ""), ("rcode", rcode), ("server", d.server), ("zone", d.zone))
                yield counter("coredns_dns_responses", t + labels, d.qps * share)
    for d in s.dns:
        for t in targets:
            yield from histogram(
                "coredns_forward_request_duration_seconds",
                t + (("rcode", "NOERROR"), ("to", d.upstream)),
                d.qps * (1 - d.cache_hit_ratio),
                h.distribution(h.DNS_BUCKETS, d.forward_p99),
            )
    for d in s.dns:
        for t in targets:
            yield counter(
                "coredns_cache_hits", t + (("server", d.server), ("type", "success")), d.qps * d.cache_hit_ratio
            )
    for d in s.dns:
        for t in targets:
            yield counter("coredns_cache_misses", t + (("server", d.server),), d.qps * (1 - d.cache_hit_ratio))


def kube_proxies(s: Scenario) -> Iterator[Series]:
    """kube-proxy on every node (host network: scraped on the node's IP), with sync rates of a
    cluster that changes Services now and then. Off with the kubelets (it runs beside them), which
    keeps huge synthetic clusters small."""
    if not s.kubelet_exposed:
        return
    conv = s.labels
    for n in s.nodes:
        t = conv.kube_proxy(n.name, n.ip) + conv.external
        yield gauge("up", t, 1.0)
        # kube-proxy's sync histogram shares the scheduler's ExponentialBuckets(0.001, 2, 15).
        yield from histogram(
            "kubeproxy_sync_proxy_rules_duration_seconds", t, 0.2, h.distribution(h.SCHEDULER_BUCKETS, n.proxy_sync_p99)
        )
        yield from histogram(
            "kubeproxy_network_programming_duration_seconds",
            t,
            0.5,
            h.distribution(h.PROXY_PROGRAMMING_BUCKETS, n.proxy_programming_p99),
        )


def cilium(s: Scenario) -> Iterator[Series]:
    for n in s.nodes:
        t = (("job", "cilium-agent"), ("instance", f"{n.ip}:9962")) + s.labels.external
        for map_name, pressure in n.bpf_maps:
            yield gauge("cilium_bpf_map_pressure", t + (("map_name", map_name),), pressure)


def _build_labels(s: Scenario) -> Labels:
    major, minor = s.git_version.lstrip("v").split(".")[:2]
    return (("git_version", s.git_version), ("major", major), ("minor", minor))


def _request_labels(target: Labels, r: ApiRequest, dry_run: bool) -> Labels:
    labels = target + (("component", "apiserver"),)
    if dry_run:
        labels += (("dry_run", ""),)
    return labels + (
        ("group", r.group),
        ("resource", r.resource),
        ("scope", r.scope),
        ("subresource", r.subresource),
        ("verb", r.verb),
        ("version", r.version),
    )


def etcd(s: Scenario) -> Iterator[Series]:
    if not s.etcd_exposed:
        return
    conv = s.labels
    db_metric = (
        "etcd_debugging_mvcc_db_total_size_in_bytes" if s.etcd_legacy_db_metric else "etcd_mvcc_db_total_size_in_bytes"
    )
    leader = any(m.is_leader for m in s.etcd)
    for m in s.etcd:
        t = conv.etcd(m.name, m.ip) + conv.external
        yield gauge("up", t, 1.0)
        yield from histogram(
            "etcd_disk_wal_fsync_duration_seconds",
            t,
            m.fsync_rate,
            h.distribution(h.ETCD_DISK_BUCKETS, m.wal_fsync_p99),
        )
        yield from histogram(
            "etcd_disk_backend_commit_duration_seconds",
            t,
            m.commit_rate,
            h.distribution(h.ETCD_DISK_BUCKETS, m.backend_commit_p99),
        )
        yield gauge(db_metric, t, m.db_size_bytes, m.db_growth_bytes_per_s)
        yield gauge("etcd_mvcc_db_total_size_in_use_in_bytes", t, m.db_size_bytes * 0.8, m.db_growth_bytes_per_s * 0.8)
        yield gauge("etcd_server_quota_backend_bytes", t, m.quota_bytes)
        yield gauge("etcd_server_has_leader", t, 1.0 if m.has_leader and leader else 0.0)
        yield gauge("etcd_server_is_leader", t, 1.0 if m.is_leader else 0.0)
        yield counter("etcd_server_leader_changes_seen", t, m.leader_changes_per_hour / 3600, base=1.0)
        for peer in s.etcd:
            if peer is not m:
                yield from histogram(
                    "etcd_network_peer_round_trip_time_seconds",
                    t + (("To", peer.id),),
                    0.2,
                    h.distribution(h.ETCD_PEER_RTT_BUCKETS, m.peer_rtt_p99),
                )


def nodes(s: Scenario) -> Iterator[Series]:
    if not s.node_exporter_exposed:
        return
    conv = s.labels
    for n in s.nodes:
        t = conv.node_exporter(n.name, n.ip) + conv.external
        yield gauge("up", t, 1.0)
        nodename = conv.uname_nodename(n.name, n.ip)
        releases = ("6.1.0-18-amd64", "6.1.0-21-amd64") if conv.uname_twice else ("6.1.0-18-amd64",)
        for release in releases if nodename is not None else ():
            yield gauge(
                "node_uname_info",
                t + (("machine", "x86_64"), ("nodename", nodename), ("release", release), ("sysname", "Linux")),
                1.0,
            )
        idle = 1.0 - n.cpu
        modes = (
            ("idle", idle * 0.85),
            ("iowait", idle * 0.10),
            ("steal", idle * 0.05),
            ("system", n.cpu * 0.3),
            ("user", n.cpu * 0.7),
        )
        for cpu in range(n.cpus):
            for mode, rate in modes:
                yield counter("node_cpu_seconds", t + (("cpu", str(cpu)), ("mode", mode)), rate, base=86400.0 * rate)
        yield gauge("node_load1", t, n.load)
        yield gauge("node_memory_MemTotal_bytes", t, n.memory_total_bytes)
        yield gauge("node_memory_MemAvailable_bytes", t, n.memory_total_bytes * (1 - n.memory))
        yield counter("node_vmstat_oom_kill", t, n.oom_kills_per_hour / 3600)
        for resource, share in n.psi_full:
            yield counter(f"node_pressure_{resource}_stalled_seconds", t, share)
        yield gauge("node_nf_conntrack_entries", t, n.conntrack_limit * n.conntrack_used)
        yield gauge("node_nf_conntrack_entries_limit", t, n.conntrack_limit)
        # The tmpfs mount is nearly full on purpose: only mountpoint="/" may count.
        for device, fstype, mount, size, used in (
            ("/dev/sda1", "ext4", "/", n.root_size_bytes, n.disk),
            ("tmpfs", "tmpfs", "/run", 1.6 * 1024**3, 0.99),
        ):
            fs = t + (("device", device), ("fstype", fstype), ("mountpoint", mount))
            root = mount == "/"
            avail = size * (1 - used)
            fill = n.disk_fill_seconds if root else None
            yield gauge("node_filesystem_avail_bytes", fs, avail, -avail / fill if fill else 0.0)
            yield gauge("node_filesystem_size_bytes", fs, size)
            yield gauge("node_filesystem_readonly", fs, 0.0)
            files_free = n.inodes_total * (1 - (n.inodes_used if root else 0.01))
            fill = n.inode_fill_seconds if root else None
            yield gauge("node_filesystem_files_free", fs, files_free, -files_free / fill if fill else 0.0)
            yield gauge("node_filesystem_files", fs, n.inodes_total)


def kube_state_metrics(s: Scenario) -> Iterator[Series]:
    if not s.ksm_exposed:
        return
    conv = s.labels
    t = conv.ksm() + conv.external
    yield gauge("up", t, 1.0)
    # An HA pair of kube-state-metrics exports every kube_node_info twice, told apart by instance.
    replicas = (t, conv.ksm_replica() + conv.external) if conv.node_info_twice else (t,)
    for n, target in ((n, r) for n in s.nodes for r in replicas) if conv.kube_node_info else ():
        yield gauge(
            "kube_node_info",
            target
            + (
                ("container_runtime_version", "containerd://1.7.13"),
                ("internal_ip", n.ip),
                ("kernel_version", "6.1.0-18-amd64"),
                ("kubelet_version", s.git_version),
                ("node", n.name),
                ("os_image", "Debian GNU/Linux 12 (bookworm)"),
            ),
            1.0,
        )
    for n in s.nodes:
        # Ready: True, or switching between True and False when the scenario makes it flap.
        for status, value in (("true", 1.0), ("false", 0.0), ("unknown", 0.0)):
            labels = t + (("condition", "Ready"), ("node", n.name), ("status", status))
            if n.ready_flaps_per_15m and status != "unknown":
                yield flapping("kube_node_status_condition", labels, value, 900.0 / n.ready_flaps_per_15m, 1.0 - value)
            else:
                yield gauge("kube_node_status_condition", labels, value)
        for condition in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            for status in ("true", "false", "unknown"):
                value = 1.0 if (condition in n.pressure) == (status == "true") and status != "unknown" else 0.0
                yield gauge(
                    "kube_node_status_condition",
                    t + (("condition", condition), ("node", n.name), ("status", status)),
                    value,
                )
    node_ips = {n.name: n.ip for n in s.nodes}
    for p in s.pods:
        pod = t + (("namespace", p.namespace), ("pod", p.name), ("uid", p.uid))
        yield gauge(
            "kube_pod_info",
            pod
            + (
                ("created_by_kind", p.owner_kind),
                ("created_by_name", p.owner_name),
                ("host_ip", node_ips.get(p.node, "")),
                ("node", p.node),
                ("pod_ip", p.ip),
            ),
            1.0,
        )
        for phase in PHASES:
            yield gauge("kube_pod_status_phase", pod + (("phase", phase),), 1.0 if phase == p.phase else 0.0)
        for c in p.containers:
            ct = t + (("container", c.name), ("namespace", p.namespace), ("pod", p.name), ("uid", p.uid))
            yield counter("kube_pod_container_status_restarts", ct, c.restarts_per_hour / 3600, base=c.restarts_base)
            # kube-state-metrics only exposes waiting_reason while the container waits.
            if c.waiting_reason:
                yield gauge("kube_pod_container_status_waiting_reason", ct + (("reason", c.waiting_reason),), 1.0)
            if c.last_terminated_reason:
                yield gauge(
                    "kube_pod_container_status_last_terminated_reason",
                    ct + (("reason", c.last_terminated_reason),),
                    1.0,
                )
    prefix, label = ("kube_hpa", "hpa") if s.ksm_v1 else ("kube_horizontalpodautoscaler", "horizontalpodautoscaler")
    for suffix, attr in (
        ("status_current_replicas", "current"),
        ("status_desired_replicas", "desired"),
        ("spec_min_replicas", "min_replicas"),
        ("spec_max_replicas", "max_replicas"),
    ):
        for hpa in s.hpas:
            yield gauge(f"{prefix}_{suffix}", t + ((label, hpa.name), ("namespace", hpa.namespace)), getattr(hpa, attr))
    for kind in ("limits", "requests"):
        for resource in ("cpu", "memory"):
            for p in s.pods:
                for c in p.containers:
                    ct = t + (("container", c.name), ("namespace", p.namespace), ("pod", p.name), ("uid", p.uid))
                    value = getattr(c, f"{resource}_{kind[:-1]}")
                    yield from _resource(s, f"kube_pod_container_resource_{kind}", ct, resource, value)
    for resource in ("cpu", "memory"):
        for n in s.nodes:
            value = n.allocatable_cpu if resource == "cpu" else n.allocatable_memory
            yield from _resource(s, "kube_node_status_allocatable", t + (("node", n.name),), resource, value)


def _resource(s: Scenario, family: str, labels: Labels, resource: str, value: float | None) -> Iterator[Series]:
    """A KSM resource gauge: v2's one family with `resource` and `unit` labels, or v1's family per
    resource (`_cpu_cores`, `_memory_bytes`)."""
    if value is None:
        return
    if s.ksm_v1:
        yield gauge(f"{family}_{'cpu_cores' if resource == 'cpu' else 'memory_bytes'}", labels, value)
    else:
        unit = "core" if resource == "cpu" else "byte"
        yield gauge(family, labels + (("resource", resource), ("unit", unit)), value)


def cadvisor(s: Scenario) -> Iterator[Series]:
    """Per-container CPU, CFS throttling and working set, on the node's kubelet target."""
    if not (s.cadvisor_exposed and s.kubelet_exposed):  # cAdvisor is served by the kubelet
        return
    conv = s.labels
    ips = {n.name: n.ip for n in s.nodes}
    containers = [
        (
            conv.cadvisor(p.node, ips[p.node])
            + conv.external
            + (("container", c.name), ("namespace", p.namespace), ("pod", p.name)),
            c,
        )
        for p in s.pods
        if p.node in ips
        for c in p.containers
    ]
    # Families stay contiguous (OpenMetrics): one loop per family.
    for ct, c in containers:
        yield counter("container_cpu_usage_seconds", ct + (("cpu", "total"),), c.cpu_usage)
    # cAdvisor exports CFS counters only for containers with a CPU quota: a period per 100 ms.
    for ct, c in containers:
        if c.cpu_limit is not None:
            yield counter("container_cpu_cfs_periods", ct, 10.0)
    for ct, c in containers:
        if c.cpu_limit is not None:
            yield counter("container_cpu_cfs_throttled_periods", ct, 10.0 * c.throttled_ratio)
    for ct, c in containers:
        yield gauge("container_memory_working_set_bytes", ct, c.memory_working_set, c.memory_growth)


def scheduler(s: Scenario) -> Iterator[Series]:
    conv = s.labels
    sch = s.scheduler
    t = conv.scheduler(s.apiserver_ips[0]) + conv.external
    yield gauge("up", t, 1.0)
    yield gauge("kubernetes_build_info", t + _build_labels(s), 1.0)
    for queue, value in sch.pending():
        yield gauge("scheduler_pending_pods", t + (("queue", queue),), value)
    profile = (("profile", "default-scheduler"),)
    for result, rate in sch.attempts():
        yield counter("scheduler_schedule_attempts", t + profile + (("result", result),), rate)
    dist = h.distribution(h.SCHEDULER_BUCKETS, sch.attempt_p99)
    for result, rate in sch.attempts():
        yield from histogram(sch.attempt_metric, t + profile + (("result", result),), rate, dist)


def controller_manager(s: Scenario) -> Iterator[Series]:
    conv = s.labels
    t = conv.controller_manager(s.apiserver_ips[0]) + conv.external
    yield gauge("up", t, 1.0)
    yield gauge("kubernetes_build_info", t + _build_labels(s), 1.0)
    for q in s.workqueues:
        name = t + (("name", q.name),)
        yield gauge("workqueue_depth", name, q.depth)
        yield counter("workqueue_adds", name, q.adds_rate)
    for q in s.workqueues:
        yield from histogram(
            "workqueue_queue_duration_seconds",
            t + (("name", q.name),),
            q.adds_rate,
            h.distribution(h.WORKQUEUE_BUCKETS, q.queue_p99),
        )
    for q in s.workqueues:
        yield from histogram(
            "workqueue_work_duration_seconds",
            t + (("name", q.name),),
            q.adds_rate,
            h.distribution(h.WORKQUEUE_BUCKETS, q.work_p99),
        )


def kubelets(s: Scenario) -> Iterator[Series]:
    if not s.kubelet_exposed:
        return
    conv = s.labels
    k = s.kubelet
    start_dist = h.distribution(h.POD_START_BUCKETS, k.pod_start_p99)
    op_dists = [(op, h.distribution(h.RUNTIME_OPS_BUCKETS, op.p99)) for op in k.ops]
    for n in s.nodes:
        t = conv.kubelet(n.name, n.ip) + conv.external
        yield gauge("up", t, 1.0)
        yield gauge("kubernetes_build_info", t + _build_labels(s), 1.0)
        yield from histogram("kubelet_pod_start_sli_duration_seconds", t, k.pod_start_rate, start_dist)
        for op, dist in op_dists:
            slow = dict(n.runtime_p99).get(op.operation_type)
            yield from histogram(
                "kubelet_runtime_operations_duration_seconds",
                t + (("operation_type", op.operation_type),),
                op.rate,
                dist if slow is None else h.distribution(h.RUNTIME_OPS_BUCKETS, slow),
            )
        for op, _ in op_dists:
            yield counter("kubelet_runtime_operations", t + (("operation_type", op.operation_type),), op.rate)
        for op, _ in op_dists:
            yield counter(
                "kubelet_runtime_operations_errors", t + (("operation_type", op.operation_type),), op.error_rate
            )
        yield from histogram(
            "kubelet_pleg_relist_duration_seconds", t, 1.0, h.distribution(h.DEF_BUCKETS, n.pleg_relist_p99)
        )
        # The kubelet exposes this counter without a _total suffix (component-base text format).
        for signal, rate in n.evictions_per_hour:
            name = render(t + (("eviction_signal", signal),))
            yield Series("kubelet_evictions", "gauge", "kubelet_evictions", name, "rate", rate / 3600)


def all_series(s: Scenario) -> Iterator[Series]:
    for component in (
        apiserver,
        webhooks,
        coredns,
        kube_proxies,
        cilium,
        etcd,
        nodes,
        kube_state_metrics,
        scheduler,
        controller_manager,
        kubelets,
        cadvisor,
    ):
        for series in component(s):
            if not _scrape_failed(series, s.down_targets):
                yield series
            elif series.family == "up":  # a target that cannot be scraped keeps only `up`, at 0
                yield replace(series, value=0.0)


def _scrape_failed(series: Series, down: tuple[tuple[str, str], ...]) -> bool:
    return any(
        f'job="{_escape(job)}"' in series.labels and f'instance="{_escape(instance)}"' in series.labels
        for job, instance in down
    )


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phase:
    """A series' definition over [start, end) in unix seconds."""

    start: float
    end: float
    series: Series


def _values(phases: list[Phase], times: list[int], anchor: float, t0: float) -> Iterator[tuple[int, float]]:
    counter_total = phases[0].series.base
    done_until = t0  # counter integral is accumulated phase by phase
    for phase in phases:
        s = phase.series
        for t in times:
            if phase.start <= t < phase.end:
                if s.kind == "rate":
                    yield t, counter_total + s.value * (t - done_until)
                elif s.flap and int((t - anchor) // s.flap) % 2:
                    yield t, s.flap_value
                else:
                    yield t, s.value + s.slope * (t - anchor)
        if s.kind == "rate":
            counter_total += s.value * (phase.end - done_until)
            done_until = phase.end


def _format(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def write_openmetrics(scenario: Scenario, out: IO[str], anchor: float) -> int:
    """Write the scenario's history around `anchor` (unix seconds); returns samples written."""
    samples = _write_history(scenario, out, anchor)
    out.write("# EOF\n")
    return samples


def _write_history(scenario: Scenario, out: IO[str], anchor: float, cluster: tuple[str, str] | None = None) -> int:
    """The scenario's series without the closing `# EOF`. `cluster`: (label, value) set on every
    series, replacing the convention's own, as a fleet backend's external label does."""
    step = scenario.step
    t0 = anchor - scenario.history
    end = anchor + scenario.future
    times = [int(t0 + i * step) for i in range(int((end - t0) // step) + 1)]
    stamps = {t: str(t) for t in times}
    switch = anchor - scenario.incident_start if scenario.incident_start is not None else None

    def timelines() -> Iterator[list[Phase]]:
        if switch is None or scenario.before is None:
            for s in all_series(scenario):
                yield [Phase(t0, end + 1, s)]
            return
        earlier = {(s.name, s.labels): s for s in all_series(scenario.before)}
        for s in all_series(scenario):
            previous = earlier.pop((s.name, s.labels), None)
            if previous is None:
                yield [Phase(switch, end + 1, s)]
            else:
                yield [Phase(t0, switch, previous), Phase(switch, end + 1, s)]
        for s in earlier.values():
            yield [Phase(t0, switch, s)]

    samples = 0
    current_family = ""
    for phases in timelines():
        s = phases[0].series
        if s.family != current_family:
            out.write(f"# TYPE {s.family} {s.type}\n")
            current_family = s.family
        prefix = f"{s.name}{s.labels if cluster is None else with_label(s.labels, *cluster)} "
        lines = [f"{prefix}{_format(v)} {stamps[t]}\n" for t, v in _values(phases, times, anchor, t0)]
        out.write("".join(lines))
        samples += len(lines)
    return samples


def with_label(labels: str, name: str, value: str) -> str:
    """A rendered label set with `name` set to `value` (replacing any it had)."""
    kept = [part for part in _LABEL_PAIR.findall(labels[1:-1]) if not part.startswith(f"{name}=")]
    return render(((name, value),)).rstrip("}") + "".join(f",{part}" for part in kept) + "}"


_LABEL_PAIR = re.compile(r'[A-Za-z_][A-Za-z0-9_]*="(?:[^"\\]|\\.)*"')


def write_file(scenario: Scenario | Fleet, path: Path, anchor: float) -> int:
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        if isinstance(scenario, Fleet):
            samples = sum(_write_history(s, out, anchor, (scenario.label, name)) for name, s in scenario.clusters)
            out.write("# EOF\n")
            return samples
        return write_openmetrics(scenario, out, anchor)

"""Settings: connection, thresholds and selectors, from defaults, the config file and flags.

Thresholds carry their source so findings and the KPI scorecard can cite them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(ValueError):
    """A bad flag or config value; the message names the problem and the fix."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    # API server heatmap shades: p99 as a share of the row's SIG-scalability SLO (1 s single
    # object, 5 s namespace LIST, 30 s cluster LIST), so LISTs are not red for being LISTs.
    apiserver_heat_slo_share: tuple[float, float, float] = (0.25, 0.5, 1.0)
    # SIG-scalability read-only SLO for a namespace-scoped LIST: p99 <= 5 s
    apiserver_namespace_list_p99_slo: float = 5.0
    # Noise floor: a p99 over fewer requests than this (in the 5 m rate window) is one slow call,
    # not a percentile; such a latency finding is at most info.
    apiserver_latency_min_requests: float = 100.0
    # Seed 1.1: API request latency < 100 ms p99; SIG-scalability SLO: <= 1 s for mutating/single reads
    apiserver_p99_target: float = 0.1
    apiserver_p99_slo: float = 1.0
    # Seed 1.1: throughput > 1000 QPS is a capacity target, not a health signal
    apiserver_qps_target: float = 1000.0
    # Defaults of --max-requests-inflight / --max-mutating-requests-inflight (k8s server/config.go)
    max_requests_inflight: float = 400.0
    max_mutating_requests_inflight: float = 200.0
    # Seed 1.1 / 6.1 EtcdDiskLatencyHigh: disk write latency < 10 ms
    etcd_wal_fsync_p99: float = 0.01
    # etcd FAQ: backend commit p99 < 25 ms healthy
    etcd_backend_commit_p99: float = 0.025
    # etcd mixin etcdMemberCommunicationSlow: peer RTT p99 > 0.15 s; seed: network < 5 ms
    etcd_peer_rtt_p99: float = 0.15
    # etcd mixin etcdDatabaseQuotaLowSpace: > 95 % of quota is critical; warn from 80 %
    etcd_db_quota_ratio: tuple[float, float] = (0.8, 0.95)
    # Seed 8.1 "Node Resource Saturation": 70 / 85 / 95 %
    node_saturation: tuple[float, float, float] = (0.70, 0.85, 0.95)
    # node mixin NodeSystemSaturation: load1 per CPU > 2
    node_load1_per_cpu: float = 2.0
    # Seed 1.1 scheduler throughput > 100 pods/s (also CL2 load test)
    scheduler_throughput: float = 100.0
    # Seed 1.1 controller-manager queue depth < 1000, reconcile < 5 s
    workqueue_depth: float = 1000.0
    workqueue_work_p99: float = 5.0
    # SIG-scalability pod startup SLO p99 <= 5 s (the seed's 30 s is a loose upper bound)
    pod_startup_p99: float = 5.0
    # Seed 1.1 kubelet pod_startup_time < 30 s: past it both the seed and the SLO are broken
    pod_startup_p99_seed: float = 30.0
    # SIG-scalability LIST SLO: p99 <= 30 s (namespace and cluster scope)
    apiserver_list_p99_slo: float = 30.0
    # kubernetes-mixin availability target 99 % (1 % budget); critical at the 1 h burn of 14.4x
    apiserver_error_ratio: tuple[float, float] = (0.01, 0.144)
    # Share of --max-requests-inflight in use that counts as "near the limit"
    inflight_near_limit: float = 0.9
    # etcd mixin etcdHighFsyncDurations (warning > 0.5 s) and etcdHighCommitDurations (> 0.25 s)
    etcd_wal_fsync_p99_limit: float = 0.5
    etcd_backend_commit_p99_limit: float = 0.25
    # Seed 1.1 etcd network_latency < 5 ms (the peer RTT p99 target; the alert is above)
    etcd_peer_rtt_target: float = 0.005
    # etcd mixin etcdHighNumberOfLeaderChanges: >= 4 changes (within 15 min there; 1 h here)
    etcd_leader_changes_1h: float = 4.0
    # Seed 1.1 container_runtime container_creation < 2 s
    container_create_p99: float = 2.0
    # k8stop's own: no upstream alert exists for runtime operation errors; 1 % of operations
    runtime_ops_error_ratio: float = 0.01
    # k8stop's own: restarts in the last hour that make a non-waiting container worth a note
    restarts_1h: float = 3.0
    # kubernetes-mixin CPUThrottlingHigh: > 25 % of CFS periods throttled (for 15m)
    cpu_throttling_ratio: float = 0.25
    # Working set / memory limit: the kernel OOM-kills the container at 100 %. k8stop's own
    # figures (no upstream alert): warn at 90 %, critical at 95 %
    container_memory_ratio: tuple[float, float] = (0.90, 0.95)
    # A container whose working set reaches its limit within this many seconds at the fitted
    # trend (fast end of the band) is critical whatever its current share
    container_memory_runway: float = 3600.0
    # node mixin NodeFilesystemSpaceFillingUp / FilesFillingUp: full within 24 h warns (when less
    # than 40 % is free), within 4 h is critical whatever is free (the mixin also asks < 20 % free:
    # a disk at 78 % that fills in 20 minutes is critical now, not when it crosses a line)
    filesystem_full_warn: float = 86400.0
    filesystem_full_critical: float = 14400.0
    filesystem_free_gate: float = 0.40
    # kubernetes-mixin KubeletPlegDurationHigh: PLEG relist p99 >= 10 s
    kubelet_pleg_relist_p99: float = 10.0
    # PSI "full" share of time every task on a node was stalled on memory or I/O: k8stop's own
    # warning at 10 %; critical at systemd-oomd's DefaultMemoryPressureLimit, 60 %
    node_psi_full: tuple[float, float] = (0.10, 0.60)
    # kubernetes-mixin KubeNodeReadinessFlapping: more than 2 changes of Ready in 15 minutes
    node_ready_changes_15m: float = 3.0
    # kubernetes-mixin KubeHpaReplicasMismatch: desired != current for 15 minutes (seconds); a
    # shorter mismatch is an autoscaler at work
    hpa_mismatch_for: float = 900.0
    # kubernetes-mixin KubeCPUOvercommit / KubeMemoryOvercommit: requests above the allocatable
    # left when the largest node is lost (warning); above all allocatable, pods cannot fit now
    overcommit_n1_ratio: float = 1.0
    # k8stop's own: unschedulable pods that put a flag on the dashboard's header (no upstream alert)
    unschedulable_pods: float = 10.0

    def inflight_limits(self) -> dict[str, float]:
        """The in-flight limit per apiserver_current_inflight_requests request_kind."""
        return {"readOnly": self.max_requests_inflight, "mutating": self.max_mutating_requests_inflight}


@dataclass(frozen=True, slots=True)
class Selectors:
    """Extra PromQL label matchers per component, e.g. 'job="kube-apiserver"'.

    Empty by default: metric names already identify the component, and a job label that
    differs between charts (kube-apiserver vs apiserver, node vs node-exporter) must not
    make k8stop blind.
    """

    apiserver: str = ""
    etcd: str = ""
    node: str = ""
    kube_state_metrics: str = ""
    scheduler: str = ""
    controller_manager: str = ""
    kubelet: str = ""
    # cAdvisor (container_*), scraped from the kubelet at /metrics/cadvisor: kube-prometheus
    # uses the kubelet's job, classic configs a `kubernetes-cadvisor` job of their own
    cadvisor: str = ""
    coredns: str = ""
    kube_proxy: str = ""
    cilium: str = ""
    # Which scrape targets' health (`up`) k8stop reports: every job by default
    targets: str = ""
    # Labels that may already carry the node's name on node-exporter series, tried in order
    # before node_uname_info, kube_node_info and the kube API (queries/prom/node_names.py).
    node_labels: tuple[str, ...] = ("node", "nodename", "kubernetes_node")


@dataclass(frozen=True, slots=True)
class PrometheusAuth:
    bearer_token_file: str | None = None
    basic_user: str | None = None
    basic_password_file: str | None = None
    ca_file: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    insecure_skip_tls_verify: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    prometheus_url: str | None = None
    prometheus: PrometheusAuth = field(default_factory=PrometheusAuth)
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    refresh: float = 2.0
    use_kube: bool = True
    use_prometheus: bool = True
    query_timeout: float = 10.0
    # The headless report waits for the kube API's first list as long as pages keep arriving;
    # only this long without one (a stuck list) is an error. 0: wait as long as it takes.
    kube_sync_idle_timeout: float = 60.0
    # When Prometheus fails or is absent, the API and etcd panels read the API server's own
    # /metrics through the kube connection; false keeps them on Prometheus alone.
    direct_metrics: bool = True
    max_inflight_queries: int = 4
    top_nodes: int = 20
    thresholds: Thresholds = field(default_factory=Thresholds)
    selectors: Selectors = field(default_factory=Selectors)
    query_overrides: tuple[tuple[str, str], ...] = ()  # catalog id -> PromQL
    # Caps on what one answer may make k8stop hold: a decompressed response body (kube list
    # page, Prometheus answer) and one kube watch event line. A hostile or broken server must
    # not exhaust memory; etcd objects are at most 1.5 MiB, so the defaults leave ample room.
    max_response_mib: float = 256.0
    max_watch_line_mib: float = 16.0
    # Grafana base URL: drill-downs then link each query to Explore (default data source).
    grafana_url: str | None = None
    # Fleets (Thanos, Mimir, Cortex, VictoriaMetrics in front of many clusters): the external
    # label telling clusters apart ("" for none), the cluster every query is scoped to (None:
    # all, or the fleet overview when the backend holds several), and cluster -> kube context
    # pairs so switching one switches both (queries/prom/scope.py).
    cluster_label: str = "cluster"
    cluster: str | None = None
    clusters: tuple[tuple[str, str], ...] = ()

    def context_of(self, cluster: str) -> str | None:
        """The kube context paired with a cluster in the config, if any."""
        return dict(self.clusters).get(cluster)

    def cluster_of(self, context: str) -> str | None:
        """The cluster paired with a kube context in the config, if any."""
        return next((cluster for cluster, ctx in self.clusters if ctx == context), None)


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "k8stop" / "config.yaml"


def _merge(obj: Any, data: dict[str, Any], where: str) -> Any:
    """Overlay a mapping onto a frozen dataclass, checking names and types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, raw in data.items():
        name = str(key).replace("-", "_")
        if name not in known:
            raise ConfigError(f"{where}.{key}: unknown setting (known: {', '.join(sorted(known))})")
        current = getattr(obj, name)
        path = f"{where}.{key}"
        if hasattr(current, "__dataclass_fields__"):
            changes[name] = _merge(current, raw, path)
        else:
            changes[name] = _coerce(current, raw, path)
    return replace(obj, **changes)


def _coerce(current: Any, raw: Any, where: str) -> Any:
    if isinstance(current, bool):
        if not isinstance(raw, bool):
            raise ConfigError(f"{where}: expected true or false, got {raw!r}")
        return raw
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
            raise ConfigError(f"{where}: expected a non-negative number, got {raw!r}")
        return type(current)(raw)
    if isinstance(current, tuple) and current and all(isinstance(x, float) for x in current):
        if (
            not isinstance(raw, list)
            or len(raw) != len(current)
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in raw)
        ):
            raise ConfigError(f"{where}: expected a list of {len(current)} numbers, got {raw!r}")
        if list(raw) != sorted(raw):
            raise ConfigError(f"{where}: thresholds must be in increasing order, got {raw!r}")
        return tuple(float(x) for x in raw)
    if isinstance(current, tuple) and current and all(isinstance(x, str) for x in current):
        if not isinstance(raw, list) or not all(isinstance(x, str) and LABEL_NAME.fullmatch(x) for x in raw):
            raise ConfigError(f"{where}: expected a list of label names, got {raw!r}")
        return tuple(raw)
    if isinstance(current, tuple) or name_is_pairs(current):
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a mapping of names to values, got {raw!r}")
        return tuple((str(k), str(v)) for k, v in raw.items())
    if current is None or isinstance(current, str):
        if raw is not None and not isinstance(raw, str):
            raise ConfigError(f"{where}: expected text, got {raw!r}")
        return raw
    raise ConfigError(f"{where}: cannot be set from the config file")


def name_is_pairs(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(x, tuple) and len(x) == 2 for x in value)


def load_config_file(path: Path, base: Settings | None = None) -> Settings:
    """Read the YAML config; a missing default file is fine, a broken one is a ConfigError."""
    import yaml

    settings = base or Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return settings
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"invalid YAML in {path}{at}: fix or remove the file") from None
    if data is None:
        return settings
    if "query_overrides" in data and isinstance(data["query_overrides"], dict):
        data = dict(data)
        overrides = data.pop("query_overrides")
        settings = replace(settings, query_overrides=tuple((str(k), str(v)) for k, v in overrides.items()))
    if "clusters" in data:
        data = dict(data)
        settings = replace(settings, clusters=_cluster_pairs(data.pop("clusters"), f"{path}.clusters"))
    merged: Settings = _merge(settings, data, str(path))
    check_cluster_label(merged.cluster_label, f"{path}.cluster_label")
    return merged


def _cluster_pairs(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    """`clusters: {prod-us: {context: prod-us-admin}}` -> (("prod-us", "prod-us-admin"),)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping of cluster names to {{context: NAME}}")
    pairs = []
    for name, entry in raw.items():
        if not isinstance(entry, dict) or set(entry) != {"context"} or not isinstance(entry["context"], str):
            raise ConfigError(f"{where}.{name}: expected {{context: NAME}}, got {entry!r}")
        pairs.append((str(name), entry["context"]))
    return tuple(pairs)


def check_cluster_label(label: str, where: str) -> None:
    if label and not LABEL_NAME.fullmatch(label):
        raise ConfigError(f"{where} {label!r}: not a Prometheus label name (letters, digits, _)")

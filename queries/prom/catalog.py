"""The one PromQL catalog: every query k8stop runs against Prometheus is an entry here.

Templates use `string.Template` placeholders:
- `$sel` opens every label selector: it expands to the component's configured matcher
  plus a trailing comma (PromQL accepts `{job="x",}`), or to nothing. No template names a
  `job`: charts disagree on it (kube-apiserver vs apiserver, node vs node-exporter).
- `$metric` is the metric family chosen among `fallbacks` (renamed metrics, newest first).
- `$sel_<component>` is another component's matcher, for entries that join its series
  (listed in `joins`), e.g. kube_node_info from kube-state-metrics in node.names.
- `$host_regex` strips the port (and IPv6 brackets) from an instance: HOST_REGEX.
- other placeholders (`$q`, `$window`) are filled by the feed that runs the entry.

Everything is aggregated on the server (sum by, histogram_quantile, topk): raw buckets
are never pulled per instance. Sources: "seed" is /work/shared/seed (the Chinese tuning
guide), KM = kubernetes-mixin, EM = etcd mixin, NM = node mixin, KSM = kube-state-metrics,
CL2 = SIG-scalability clusterloader2 / SLO docs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template

from k8stop.queries.config import ConfigError, Selectors, Settings

# Long-running requests are not latency: a WATCH or exec lasts as long as the client wants.
# The SLI latency histogram by release: _sli_ (1.26+), _slo_ (1.23-1.25, deprecated 1.27), then
# the original duration histogram, which every release still has (it includes webhook time).
APISERVER_LATENCY_METRICS = (
    "apiserver_request_sli_duration_seconds",
    "apiserver_request_slo_duration_seconds",
    "apiserver_request_duration_seconds",
)
API_LATENCY_FILTER = 'verb!~"WATCH|CONNECT", subresource!~"proxy|attach|log|exec|portforward"'

# Highest finite bucket bounds: histogram_quantile returns this when the rank is in +Inf.
APISERVER_TOP_BUCKET = 60.0
ETCD_DISK_TOP_BUCKET = 8.192  # ExponentialBuckets(0.001, 2, 14)
ETCD_PEER_RTT_TOP_BUCKET = 3.2768  # ExponentialBuckets(0.0001, 2, 16)
SCHEDULER_TOP_BUCKET = 16.384  # ExponentialBuckets(0.001, 2, 15)
WORKQUEUE_TOP_BUCKET = 1000.0  # ExponentialBuckets(10e-7, 10, 10)
POD_START_TOP_BUCKET = 3600.0
RUNTIME_OPS_TOP_BUCKET = 0.005 * 2.5**13  # ExponentialBuckets(.005, 2.5, 14)
PLEG_TOP_BUCKET = 10.0  # component-base DefBuckets (0.005 ... 10)
APF_WAIT_TOP_BUCKET = 30.0  # flowcontrol metrics.go queue wait buckets 0 .. 30 s
WEBHOOK_TOP_BUCKET = 25.0
PROXY_SYNC_TOP_BUCKET = 16.384  # ExponentialBuckets(0.001, 2, 15)
PROXY_PROGRAMMING_TOP_BUCKET = 300.0  # 0.25 s .. 300 s (pkg/proxy/metrics)
DNS_TOP_BUCKET = (
    0.00025 * 2**15
)  # CoreDNS plugin.TimeBuckets ExponentialBuckets(0.00025, 2, 16)  # admission metrics.go: .005, .025, .1, .5, 1, 2.5, 10, 25
# An instance's host: "10.0.1.11:9100" -> 10.0.1.11, "[fd00::1]:9100" -> fd00::1, "node-1" -> node-1
# (RE2, anchored by label_replace; escaped for a PromQL string).
HOST_REGEX = "\\\\[?(.+?)\\\\]?(?::[0-9]+)?"
# Real, writable-by-pods filesystems: the node mixin's fsSelector with k8stop's pseudo-fs list.
FILESYSTEMS = 'fstype!~"tmpfs|overlay|ramfs|squashfs|nsfs", mountpoint!=""'
_FS_BY = "max by (instance, device, mountpoint)"
_ROOT_FS = 'mountpoint="/", fstype!~"tmpfs|overlay|ramfs|squashfs"'


_READ = 'verb=~"LIST|GET"'
_WRITE = 'verb=~"POST|PUT|PATCH|DELETE"'
# (scope matcher, `le` of the SLO) per kind: KM's "too slow" thresholds; `le` written 1 or 1.0.
_READ_SLOW = (('scope=~"resource|"', "1"), ('scope="namespace"', "5"), ('scope="cluster"', "30"))
_WRITE_SLOW = (("", "1"),)
_LONG_SUBRESOURCES = 'subresource!~"proxy|attach|log|exec|portforward"'


def _burn_ratio(verbs: str, slow: tuple[tuple[str, str], ...]) -> str:
    """KM's apiserver_request:burnrate<window> for one verb class: (slow + 5xx) / all."""
    fast = " + ".join(
        f"(sum(rate(${{metric}}_bucket{{$sel {verbs}, {_LONG_SUBRESOURCES}, "
        + (f"{scope}, " if scope else "")
        + f'le=~"{le}(\\\\.0)?"}}[$window])) or vector(0))'
        for scope, le in slow
    )
    return (
        f"(((sum(rate(${{metric}}_count{{$sel {verbs}, {_LONG_SUBRESOURCES}}}[$window])) - ({fast})) "
        f'+ (sum(rate(apiserver_request_total{{$sel {verbs}, code=~"5.."}}[$window])) or vector(0))) '
        f"/ sum(rate(apiserver_request_total{{$sel {verbs}}}[$window])) or vector(0))"
    )


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    id: str
    component: str  # a field of Selectors: whose configured matcher goes into $sel
    description: str
    template: str
    source: str  # where the query or its threshold comes from
    fallbacks: tuple[str, ...] = ()  # candidates for $metric, preferred first
    top_bucket: float | None = None  # for quantiles: the saturation bound
    joins: tuple[str, ...] = ()  # other components whose series the template reads ($sel_<component>)


_ENTRIES: tuple[CatalogEntry, ...] = (
    # --- API server ---------------------------------------------------------------------
    CatalogEntry(
        "apiserver.version",
        "apiserver",
        "The API server's Kubernetes version, for the header when the kube API is off: the "
        "build info of the targets that also serve apiserver metrics (kubelets report theirs too)",
        "count by (git_version) (kubernetes_build_info{$sel} and on (instance) "
        "apiserver_current_inflight_requests{$sel})",
        "k8s component-base kubernetes_build_info; CL2 reads it to pick metric names",
    ),
    CatalogEntry(
        "apiserver.latency_quantile",
        "apiserver",
        "Request latency quantile per (verb, resource), long-running requests excluded",
        "histogram_quantile($q, sum by (verb, resource, le) (rate(${metric}_bucket{$sel "
        + API_LATENCY_FILTER
        + "}[5m])))",
        "seed 1.1 (API p99 < 100 ms), seed 8.1 heatmap 50/100/200 ms; KM kube_apiserver-histogram; "
        "CL2 api_responsiveness (verb!=WATCH, subresource filter; SLO 1 s)",
        APISERVER_LATENCY_METRICS,
        APISERVER_TOP_BUCKET,
    ),
    CatalogEntry(
        "apiserver.latency_p99_history",
        "apiserver",
        "p99 latency over time for the busiest (verb, resource) pairs (heatmap rows)",
        "histogram_quantile(0.99, sum by (verb, resource, le) (rate(${metric}_bucket{$sel "
        + API_LATENCY_FILTER
        + ', verb=~"$verbs", resource=~"$resources"}[$window])))',
        "seed 8.1 API Server Performance Matrix; KM apiserver dashboard",
        APISERVER_LATENCY_METRICS,
        APISERVER_TOP_BUCKET,
    ),
    CatalogEntry(
        "apiserver.request_rate",
        "apiserver",
        "Request rate per (verb, resource, class) where class is 4xx, 429, 5xx or empty",
        # The inner label_replace sets 4xx/5xx, the outer one overrides it for 429.
        "sum by (verb, resource, class) (label_replace(label_replace("
        'rate(apiserver_request_total{$sel}[5m]), "class", "$${1}xx", "code", "([45])..")'
        ', "class", "429", "code", "429"))',
        "seed 1.1 (throughput > 1000 QPS); KM kube_apiserver-availability (code_resource rate5m)",
    ),
    CatalogEntry(
        "apiserver.inflight",
        "apiserver",
        "Requests in flight by kind (readOnly, mutating) on the busiest API server: the "
        "limits apply per server, so a sum over replicas would overstate saturation",
        "max by (request_kind) (sum by (instance, request_kind) (apiserver_current_inflight_requests{$sel}))",
        "k8s server/config.go defaults --max-requests-inflight 400, --max-mutating-requests-inflight 200; seed 2.1",
    ),
    CatalogEntry(
        "apiserver.apf_executing_seats",
        "apiserver",
        "APF seats executing per priority level",
        "sum by (priority_level) ($metric{$sel})",
        "k8s flowcontrol metrics.go (current_executing_seats, replaces request_concurrency_in_use in 1.31)",
        ("apiserver_flowcontrol_current_executing_seats", "apiserver_flowcontrol_request_concurrency_in_use"),
    ),
    CatalogEntry(
        "apiserver.apf_limit_seats",
        "apiserver",
        "APF nominal seat limit per priority level",
        "sum by (priority_level) ($metric{$sel})",
        "k8s flowcontrol metrics.go (nominal_limit_seats, replaces request_concurrency_limit in 1.30)",
        ("apiserver_flowcontrol_nominal_limit_seats", "apiserver_flowcontrol_request_concurrency_limit"),
    ),
    CatalogEntry(
        "apiserver.apf_inqueue",
        "apiserver",
        "APF requests waiting in queues per priority level",
        "sum by (priority_level) (apiserver_flowcontrol_current_inqueue_requests{$sel})",
        "k8s flowcontrol metrics.go; website flow-control.md",
    ),
    CatalogEntry(
        "apiserver.apf_rejected_rate",
        "apiserver",
        "APF rejections per second per priority level (429 from flow control)",
        "sum by (priority_level) (rate(apiserver_flowcontrol_rejected_requests_total{$sel}[5m]))",
        "k8s flowcontrol metrics.go; website flow-control.md",
    ),
    # --- request path: admission webhooks (queries/prom/request_path.py) ---------------
    CatalogEntry(
        "webhook.latency_p99",
        "apiserver",
        "Admission webhook latency p99 per (webhook name, operation, type)",
        "histogram_quantile(0.99, sum by (name, operation, type, le) "
        "(rate(apiserver_admission_webhook_admission_duration_seconds_bucket{$sel}[5m])))",
        "k8s apiserver admission metrics.go; KM apiserver dashboard; compare with the webhook's "
        "timeoutSeconds (admissionregistration/v1 default 10 s)",
        top_bucket=WEBHOOK_TOP_BUCKET,
    ),
    CatalogEntry(
        "webhook.call_rate",
        "apiserver",
        "Admission webhook calls per second per (webhook name, operation, type)",
        "sum by (name, operation, type) (rate(apiserver_admission_webhook_admission_duration_seconds_count{$sel}[5m]))",
        "k8s apiserver admission metrics.go",
    ),
    CatalogEntry(
        "webhook.rejection_rate",
        "apiserver",
        "Requests denied by a webhook's own policy per second (error_type no_error)",
        'sum by (name, operation) (rate(apiserver_admission_webhook_rejection_count{$sel error_type="no_error"}[5m]))',
        "k8s apiserver admission metrics.go (rejection_count by error_type, rejection_code)",
    ),
    CatalogEntry(
        "webhook.failure_rate",
        "apiserver",
        "Admission webhook calls per second answered without a 2xx (errors and timeouts record "
        "code 0 or the webhook's error code)",
        'sum by (name, operation) (rate(apiserver_admission_webhook_request_total{$sel code!~"2.."}[5m]))',
        "k8s apiserver admission metrics.go (webhook_request_total by code, 1.24+)",
    ),
    CatalogEntry(
        "webhook.verb_p99_with",
        "apiserver",
        "Request p99 per verb with admission webhook time (the classic duration histogram)",
        "histogram_quantile(0.99, sum by (verb, le) (rate(apiserver_request_duration_seconds_bucket{$sel "
        + API_LATENCY_FILTER
        + "}[5m])))",
        "k8s endpoints metrics.go (request_duration includes webhooks); KM kube_apiserver-histogram",
        top_bucket=APISERVER_TOP_BUCKET,
    ),
    CatalogEntry(
        "webhook.verb_p99_without",
        "apiserver",
        "Request p99 per verb without admission webhook time (the SLI histogram)",
        "histogram_quantile(0.99, sum by (verb, le) (rate(${metric}_bucket{$sel " + API_LATENCY_FILTER + "}[5m])))",
        "k8s endpoints metrics.go (request_sli_duration excludes webhook and APF queue time)",
        APISERVER_LATENCY_METRICS[:2],
        APISERVER_TOP_BUCKET,
    ),
    CatalogEntry(
        "webhook.verb_rate",
        "apiserver",
        "Requests per second per verb, long-running requests excluded",
        "sum by (verb) (rate(apiserver_request_total{$sel " + API_LATENCY_FILTER + "}[5m]))",
        "KM kube_apiserver-availability",
    ),
    # --- request path: who loads the API server ----------------------------------------
    CatalogEntry(
        "apf.flow_dispatched_rate",
        "apiserver",
        "Requests dispatched per second per (priority level, flow schema)",
        "sum by (priority_level, flow_schema) (rate(apiserver_flowcontrol_dispatched_requests_total{$sel}[5m]))",
        "k8s flowcontrol metrics.go (BETA); website flow-control.md",
    ),
    CatalogEntry(
        "apf.flow_inqueue",
        "apiserver",
        "Requests waiting in APF queues per (priority level, flow schema)",
        "sum by (priority_level, flow_schema) (apiserver_flowcontrol_current_inqueue_requests{$sel})",
        "k8s flowcontrol metrics.go (BETA); website flow-control.md",
    ),
    CatalogEntry(
        "apf.flow_rejected_rate",
        "apiserver",
        "APF rejections (429) per second per (priority level, flow schema)",
        "sum by (priority_level, flow_schema) (rate(apiserver_flowcontrol_rejected_requests_total{$sel}[5m]))",
        "k8s flowcontrol metrics.go (BETA); website flow-control.md",
    ),
    CatalogEntry(
        "apf.flow_wait_p99",
        "apiserver",
        "Time a request waits in its APF queue, p99 per (priority level, flow schema)",
        "histogram_quantile(0.99, sum by (priority_level, flow_schema, le) "
        "(rate(apiserver_flowcontrol_request_wait_duration_seconds_bucket{$sel}[5m])))",
        "k8s flowcontrol metrics.go (BETA histogram, buckets 0 .. 30 s)",
        top_bucket=APF_WAIT_TOP_BUCKET,
    ),
    CatalogEntry(
        "apiserver.storage_objects",
        "apiserver",
        "Objects stored per resource (every API server reports the same count: max, not sum)",
        "max by (resource) ($metric{$sel})",
        "k8s apiserver storage metrics (apiserver_storage_objects, 1.21+; etcd_object_counts before); "
        "SIG-scalability thresholds.md (150 000 pods per cluster)",
        ("apiserver_storage_objects", "etcd_object_counts"),
    ),
    # --- request path: the API server's error budget ------------------------------------
    CatalogEntry(
        "slo.burn_ratio",
        "apiserver",
        "Share of requests over [$window] that spent the availability/latency budget: too slow "
        "(read > 1 s per object, > 5 s per namespace, > 30 s cluster-wide; write > 1 s) or 5xx, "
        "read and write ratios summed as KubeAPIErrorBudgetBurn sums them",
        _burn_ratio(_READ, _READ_SLOW) + " + " + _burn_ratio(_WRITE, _WRITE_SLOW),
        "KM rules/kube_apiserver-burnrate.libsonnet (apiserver_request:burnrate<window>) and "
        "alerts/kube_apiserver.libsonnet KubeAPIErrorBudgetBurn (99 % over 30 d)",
        APISERVER_LATENCY_METRICS,
    ),
    # --- request path: cluster DNS (CoreDNS) ---------------------------------------------
    CatalogEntry(
        "dns.request_p99",
        "coredns",
        "CoreDNS request latency p99 per (server, zone)",
        "histogram_quantile(0.99, sum by (server, zone, le) (rate(coredns_dns_request_duration_seconds_bucket{$sel}[5m])))",
        "coredns-mixin CoreDNSLatencyHigh (p99 > 4 s, critical)",
        top_bucket=DNS_TOP_BUCKET,
    ),
    CatalogEntry(
        "dns.request_rate",
        "coredns",
        "CoreDNS requests per second per (server, zone)",
        "sum by (server, zone) (rate(coredns_dns_request_duration_seconds_count{$sel}[5m]))",
        "coredns-mixin dashboard (requests by zone)",
    ),
    CatalogEntry(
        "dns.rcode_ratio",
        "coredns",
        "Share of CoreDNS responses per (server, zone) with an rcode matching $rcodes",
        'sum by (server, zone) (rate($metric{$sel rcode=~"$rcodes"}[5m])) / sum by (server, zone) (rate($metric{$sel}[5m]))',
        "coredns-mixin CoreDNSErrorsHigh (SERVFAIL > 1 % warning, > 3 % critical); CoreDNS 1.7 renamed "
        "response_rcode_count_total to responses_total",
        ("coredns_dns_responses_total", "coredns_dns_response_rcode_count_total"),
    ),
    CatalogEntry(
        "dns.forward_p99",
        "coredns",
        "CoreDNS forward (upstream) request latency p99 per upstream",
        "histogram_quantile(0.99, sum by (to, le) (rate(coredns_forward_request_duration_seconds_bucket{$sel}[5m])))",
        "coredns-mixin CoreDNSForwardLatencyHigh (p99 > 4 s, critical)",
        top_bucket=DNS_TOP_BUCKET,
    ),
    CatalogEntry(
        "dns.cache_hit_ratio",
        "coredns",
        "CoreDNS cache hits / (hits + misses) per server",
        "sum by (server) (rate(coredns_cache_hits_total{$sel}[5m])) / (sum by (server) "
        "(rate(coredns_cache_hits_total{$sel}[5m])) + sum by (server) (rate(coredns_cache_misses_total{$sel}[5m])))",
        "CoreDNS cache plugin metrics; coredns-mixin dashboard (cache hit rate)",
    ),
    # --- request path: service proxy and conntrack, per node ------------------------------
    CatalogEntry(
        "proxy.sync_p99",
        "kube_proxy",
        "kube-proxy rule sync (iptables/ipvs/nftables) p99 per kube-proxy",
        "histogram_quantile(0.99, sum by (instance, le) "
        "(rate(kubeproxy_sync_proxy_rules_duration_seconds_bucket{$sel}[5m])))",
        "k8s pkg/proxy/metrics (ExponentialBuckets(0.001, 2, 15)); KM proxy dashboard; kube-proxy "
        "minSyncPeriod 1 s / syncPeriod 30 s defaults",
        top_bucket=PROXY_SYNC_TOP_BUCKET,
    ),
    CatalogEntry(
        "proxy.programming_p99",
        "kube_proxy",
        "Network programming latency p99 per kube-proxy: from a Service/EndpointSlice change to its rules",
        "histogram_quantile(0.99, sum by (instance, le) "
        "(rate(kubeproxy_network_programming_duration_seconds_bucket{$sel}[5m])))",
        "SIG-scalability network programming latency SLO (p99 <= 30 s); seed §1.1 service_proxy_delay",
        top_bucket=PROXY_PROGRAMMING_TOP_BUCKET,
    ),
    CatalogEntry(
        "proxy.nodes",
        "kube_proxy",
        "The node each kube-proxy runs on (host network: its instance's host is the node's address; "
        "$by_host is node.names_by_host)",
        "group by (instance, k8stop_node) (label_replace(group by (instance) "
        "(kubeproxy_sync_proxy_rules_duration_seconds_count{$sel}), "
        '"k8stop_host", "$$1", "instance", "$host_regex") * on (k8stop_host) group_left (k8stop_node) ($by_host))',
        "k8s pkg/proxy/metrics; KSM kube_node_info (internal_ip)",
        joins=("node", "kube_state_metrics"),
    ),
    CatalogEntry(
        "conntrack.used_ratio",
        "node",
        "conntrack table entries / limit per node-exporter target",
        "max by (instance) (node_nf_conntrack_entries{$sel}) / max by (instance) (node_nf_conntrack_entries_limit{$sel})",
        "NM NodeHighNumberConntrackEntriesUsed (> 75 %)",
    ),
    CatalogEntry(
        "conntrack.cilium_map_pressure",
        "cilium",
        "Cilium BPF map fill ratio per agent and map (conntrack, NAT, policy maps)",
        "max by (instance, map_name) (cilium_bpf_map_pressure{$sel})",
        "Cilium metrics (bpf_map_pressure, 1.13+), graded like NM NodeHighNumberConntrackEntriesUsed (75 %); "
        "Cilium docs: raise bpf-ct-global-*-max / bpf-map-dynamic-size-ratio",
    ),
    CatalogEntry(
        "conntrack.cilium_nodes",
        "cilium",
        "The node each Cilium agent runs on ($by_host is node.names_by_host)",
        "group by (instance, k8stop_node) (label_replace(group by (instance) (cilium_bpf_map_pressure{$sel}), "
        '"k8stop_host", "$$1", "instance", "$host_regex") * on (k8stop_host) group_left (k8stop_node) ($by_host))',
        "Cilium metrics; KSM kube_node_info (internal_ip)",
        joins=("node", "kube_state_metrics"),
    ),
    # --- etcd ---------------------------------------------------------------------------
    CatalogEntry(
        "etcd.wal_fsync_p99",
        "etcd",
        "WAL fsync p99 per member",
        "histogram_quantile(0.99, sum by (instance, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket{$sel}[5m])))",
        "seed 1.1/6.1 (disk write < 10 ms); EM etcdHighFsyncDurations (> 0.5 s warn, > 1 s crit)",
        top_bucket=ETCD_DISK_TOP_BUCKET,
    ),
    CatalogEntry(
        "etcd.backend_commit_p99",
        "etcd",
        "Backend commit p99 per member",
        "histogram_quantile(0.99, sum by (instance, le) "
        "(rate(etcd_disk_backend_commit_duration_seconds_bucket{$sel}[5m])))",
        "etcd FAQ (< 25 ms healthy); EM etcdHighCommitDurations (> 0.25 s)",
        top_bucket=ETCD_DISK_TOP_BUCKET,
    ),
    CatalogEntry(
        "etcd.db_size",
        "etcd",
        "Database size in bytes per member",
        "max by (instance) ($metric{$sel})",
        "EM etcdDatabaseQuotaLowSpace; etcd CHANGELOG-3.4 (debugging_ name removed in 3.5)",
        ("etcd_mvcc_db_total_size_in_bytes", "etcd_debugging_mvcc_db_total_size_in_bytes"),
    ),
    CatalogEntry(
        "etcd.quota",
        "etcd",
        "Backend quota in bytes per member",
        "max by (instance) (etcd_server_quota_backend_bytes{$sel})",
        "etcd server/storage/quota.go (default 2 GiB); EM etcdDatabaseQuotaLowSpace (> 95 %)",
    ),
    CatalogEntry(
        "etcd.has_leader",
        "etcd",
        "1 when the member sees a leader",
        "max by (instance) (etcd_server_has_leader{$sel})",
        "EM etcdNoLeader (has_leader == 0, critical)",
    ),
    CatalogEntry(
        "etcd.is_leader",
        "etcd",
        "1 on the current leader",
        "max by (instance) (etcd_server_is_leader{$sel})",
        "etcd server metrics (etcd_server_is_leader)",
    ),
    CatalogEntry(
        "etcd.leader_changes_1h",
        "etcd",
        "Leader changes seen in the last hour per member",
        "max by (instance) (increase(etcd_server_leader_changes_seen_total{$sel}[1h]))",
        "EM etcdHighNumberOfLeaderChanges (>= 4 in 15 min)",
    ),
    CatalogEntry(
        "etcd.peer_rtt_p99",
        "etcd",
        "Peer round-trip time p99 per member (worst peer)",
        "histogram_quantile(0.99, sum by (instance, le) "
        "(rate(etcd_network_peer_round_trip_time_seconds_bucket{$sel}[5m])))",
        "seed 1.1 (network < 5 ms); EM etcdMemberCommunicationSlow (> 0.15 s)",
        top_bucket=ETCD_PEER_RTT_TOP_BUCKET,
    ),
    CatalogEntry(
        "etcd.member_nodes",
        "etcd",
        "The node each member runs on, where its instance's host is a node's address ($by_host is "
        "node.names_by_host); members on hosts no node claims are left out",
        "group by (instance, k8stop_node) (label_replace(group by (instance) (etcd_server_has_leader{$sel}), "
        '"k8stop_host", "$$1", "instance", "$host_regex") * on (k8stop_host) group_left (k8stop_node) ($by_host))',
        "etcd server metrics (etcd_server_has_leader, one per member); KSM kube_node_info",
        joins=("node", "kube_state_metrics"),
    ),
    CatalogEntry(
        "etcd.disk_p99_history",
        "etcd",
        "WAL fsync and backend commit p99 over time per member",
        "label_replace(histogram_quantile(0.99, sum by (instance, le) "
        '(rate(etcd_disk_wal_fsync_duration_seconds_bucket{$sel}[$window]))), "disk", "wal_fsync", "", "")'
        " or label_replace(histogram_quantile(0.99, sum by (instance, le) "
        '(rate(etcd_disk_backend_commit_duration_seconds_bucket{$sel}[$window]))), "disk", "backend_commit", "", "")',
        "EM dashboards/targets.libsonnet (fsync and commit p99 by instance)",
        top_bucket=ETCD_DISK_TOP_BUCKET,
    ),
    # --- nodes (node-exporter) ----------------------------------------------------------
    # Per-node figures are aggregated by `instance` (one scrape target); node_names.py joins
    # the node's name on with `* on (instance) group_left (k8stop_node, k8stop_naming)`.
    CatalogEntry(
        "node.cpu_utilisation",
        "node",
        "CPU busy ratio per node-exporter target (idle, iowait and steal count as not busy)",
        '1 - avg by (instance) (sum without (mode) (rate(node_cpu_seconds_total{$sel mode=~"idle|iowait|steal"}[5m])))',
        "NM instance:node_cpu_utilisation:rate5m; seed 8.1 node saturation 70/85/95 %",
    ),
    CatalogEntry(
        "node.memory_utilisation",
        "node",
        "Memory used ratio per node-exporter target (1 - MemAvailable / MemTotal)",
        "1 - max by (instance) (node_memory_MemAvailable_bytes{$sel}) "
        "/ max by (instance) (node_memory_MemTotal_bytes{$sel})",
        "NM instance:node_memory_utilisation:ratio; seed 8.1 node saturation 70/85/95 %",
    ),
    CatalogEntry(
        "node.disk_utilisation",
        "node",
        "Root filesystem used ratio per node-exporter target",
        '1 - max by (instance) (node_filesystem_avail_bytes{$sel mountpoint="/", fstype!~"tmpfs|overlay|ramfs|squashfs"}) '
        '/ max by (instance) (node_filesystem_size_bytes{$sel mountpoint="/", fstype!~"tmpfs|overlay|ramfs|squashfs"})',
        "NM NodeFilesystemSpaceFillingUp / AlmostOutOfSpace; seed 8.1 node saturation 70/85/95 %",
    ),
    CatalogEntry(
        "node.load1_per_cpu",
        "node",
        "1-minute load average divided by the CPU count per node-exporter target",
        'max by (instance) (node_load1{$sel}) / count by (instance) (node_cpu_seconds_total{$sel mode="idle"})',
        "NM instance:node_load1_per_cpu:ratio; NodeSystemSaturation (> 2)",
    ),
    CatalogEntry(
        "node.count",
        "node",
        "Node-exporter targets reporting CPU counters",
        'count(group by (instance) (node_cpu_seconds_total{$sel mode="idle", cpu="0"}))',
        "NM node_cpu_seconds_total",
    ),
    CatalogEntry(
        "node.names_by_label",
        "node",
        "Node names from a label already on the node-exporter series ($label: node, nodename, "
        "kubernetes_node, ... as configured), one per target",
        "label_replace(label_replace(topk by (instance) (1, group by (instance, $label) "
        '(node_cpu_seconds_total{$sel mode="idle", cpu="0", $label!=""})), '
        '"k8stop_node", "$$1", "$label", "(.+)"), "k8stop_naming", "label $label", "", "")',
        "k8s relabelling conventions (kube-prometheus `instance`, generic `node`/`kubernetes_node`); "
        "one target per node-exporter pod",
    ),
    CatalogEntry(
        "node.names",
        "node",
        "Node name per node-exporter target, first that answers: $label_names (node.names_by_label "
        "joined with `or on (instance)`), node_uname_info{nodename}, kube_node_info{internal_ip} "
        "matched to the target's host. Targets it cannot name are left out (node_names.py adds "
        "the kube API's addresses, then the instance as is). Duplicate uname or node-info series "
        "collapse with max/group before topk picks one per target, so the joins stay many-to-one",
        "group by (instance, k8stop_node, k8stop_naming) (${label_names}"
        "label_replace(label_replace(topk by (instance) (1, max by (instance, nodename) "
        '(node_uname_info{$sel nodename!=""})), "k8stop_node", "$$1", "nodename", "(.+)"), '
        '"k8stop_naming", "node_uname_info", "", "")'
        " or on (instance) label_replace(label_replace(label_replace(group by (instance) "
        '(node_cpu_seconds_total{$sel mode="idle", cpu="0"}), "k8stop_host", "$$1", "instance", "$host_regex")'
        " * on (k8stop_host) group_left (node) topk by (k8stop_host) (1, group by (k8stop_host, node) "
        '(label_replace(kube_node_info{$sel_kube_state_metrics internal_ip!="", node!=""}, '
        '"k8stop_host", "$$1", "internal_ip", "(.+)"))), "k8stop_node", "$$1", "node", "(.+)"), '
        '"k8stop_naming", "kube_node_info", "", ""))',
        "NM node_uname_info (uname collector, on by default); KSM kube_node_info (internal_ip); "
        "kubectl names nodes by metadata.name, which kubelets default to the hostname",
        joins=("kube_state_metrics",),
    ),
    CatalogEntry(
        "node.targets",
        "node",
        "One series per node-exporter target: the roster that names are joined to",
        'group by (instance) (node_cpu_seconds_total{$sel mode="idle", cpu="0"})',
        "NM node_cpu_seconds_total (every Linux node has cpu 0 idle)",
    ),
    CatalogEntry(
        "node.names_or_instance",
        "node",
        "Node name per node-exporter target ($names is node.names), the instance as is where nothing names it",
        "($names) or on (instance) label_replace(label_replace(group by (instance) "
        '(node_cpu_seconds_total{$sel mode="idle", cpu="0"}), "k8stop_node", "$$1", "instance", "(.+)"), '
        '"k8stop_naming", "instance", "", "")',
        "NM node_cpu_seconds_total; the instance label Prometheus sets on every target",
        joins=("kube_state_metrics",),
    ),
    CatalogEntry(
        "node.names_by_host",
        "node",
        "Node name per host (IP or DNS name without the port), first that answers: "
        "kube_node_info{internal_ip} (the kube API's own address), the host of a named "
        "node-exporter target ($names is node.names), a node name itself (a target scraped by "
        "node name); one name per host. Names the targets of other jobs (etcd, kubelet) by their "
        "instance's host",
        "topk by (k8stop_host) (1, group by (k8stop_host, k8stop_node) ("
        'label_replace(label_replace(kube_node_info{$sel_kube_state_metrics internal_ip!="", node!=""}, '
        '"k8stop_host", "$$1", "internal_ip", "(.+)"), "k8stop_node", "$$1", "node", "(.+)")))'
        " or on (k8stop_host) topk by (k8stop_host) (1, group by (k8stop_host, k8stop_node) ("
        'label_replace($names, "k8stop_host", "$$1", "instance", "$host_regex")))'
        " or on (k8stop_host) group by (k8stop_host, k8stop_node) ("
        'label_replace($names, "k8stop_host", "$$1", "k8stop_node", "(.+)"))',
        "KSM kube_node_info (internal_ip); NM node_uname_info",
        joins=("kube_state_metrics",),
    ),
    # --- workloads (kube-state-metrics) -------------------------------------------------
    CatalogEntry(
        "restarts.increase_1h",
        "kube_state_metrics",
        "Container restarts in the last hour",
        "sum by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{$sel}[1h]))",
        "KSM pod-metrics; KM KubePodCrashLooping",
    ),
    CatalogEntry(
        "restarts.increase_15m",
        "kube_state_metrics",
        "Container restarts in the last 15 minutes",
        "sum by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{$sel}[15m]))",
        "KSM pod-metrics; KM KubePodCrashLooping (15m)",
    ),
    CatalogEntry(
        "restarts.waiting_reason",
        "kube_state_metrics",
        "Current waiting reason (CrashLoopBackOff, ImagePullBackOff, ...)",
        "max by (namespace, pod, container, reason) (kube_pod_container_status_waiting_reason{$sel} > 0)",
        "KSM pod-metrics (series exist only while waiting); KM KubePodCrashLooping / KubeContainerWaiting",
    ),
    CatalogEntry(
        "restarts.last_terminated_reason",
        "kube_state_metrics",
        "Reason of the last termination (OOMKilled, Error, ...)",
        "max by (namespace, pod, container, reason) (kube_pod_container_status_last_terminated_reason{$sel} > 0)",
        "KSM pod-metrics (EXPERIMENTAL last_terminated_reason)",
    ),
    # --- scheduler ----------------------------------------------------------------------
    CatalogEntry(
        "scheduler.pending",
        "scheduler",
        "Pending pods per scheduler queue",
        "sum by (queue) (scheduler_pending_pods{$sel})",
        "k8s scheduler metrics.go (STABLE scheduler_pending_pods)",
    ),
    CatalogEntry(
        "scheduler.attempts_rate",
        "scheduler",
        "Scheduling attempts per second by result",
        "sum by (result) (rate(scheduler_schedule_attempts_total{$sel}[5m]))",
        "k8s scheduler metrics.go; KM scheduler dashboard",
    ),
    CatalogEntry(
        "scheduler.attempt_p99",
        "scheduler",
        "Scheduling attempt p99",
        "histogram_quantile(0.99, sum by (le) (rate(${metric}_bucket{$sel}[5m])))",
        "KM scheduler dashboard; kubernetes#115209 (e2e_scheduling removed)",
        ("scheduler_scheduling_attempt_duration_seconds", "scheduler_e2e_scheduling_duration_seconds"),
        SCHEDULER_TOP_BUCKET,
    ),
    CatalogEntry(
        "scheduler.throughput",
        "apiserver",
        "Pods bound per second (binding POSTs answered 201)",
        'sum(rate(apiserver_request_total{$sel verb="POST", resource="pods", subresource="binding", code="201"}[5m]))',
        "seed 1.1 (> 100 pods/s); CL2 scheduling_throughput_prometheus.go",
    ),
    # --- controller-manager workqueues --------------------------------------------------
    CatalogEntry(
        "workqueue.depth",
        "controller_manager",
        "Items waiting per workqueue (a gauge: summed, never rate()d)",
        "sum by (name) (workqueue_depth{$sel})",
        "seed 1.1 (queue depth < 1000); kubernetes-mixin#655 (rate of a gauge is a bug)",
    ),
    CatalogEntry(
        "workqueue.adds_rate",
        "controller_manager",
        "Items added per second per workqueue",
        "sum by (name) (rate(workqueue_adds_total{$sel}[5m]))",
        "KM controller-manager dashboard",
    ),
    CatalogEntry(
        "workqueue.work_p99",
        "controller_manager",
        "Time to process one item, p99 per workqueue",
        "histogram_quantile(0.99, sum by (name, le) (rate(workqueue_work_duration_seconds_bucket{$sel}[5m])))",
        "seed 1.1 (reconcile < 5 s); k8s component-base workqueue metrics",
        top_bucket=WORKQUEUE_TOP_BUCKET,
    ),
    CatalogEntry(
        "workqueue.queue_p99",
        "controller_manager",
        "Time an item waits in the queue, p99 per workqueue",
        "histogram_quantile(0.99, sum by (name, le) (rate(workqueue_queue_duration_seconds_bucket{$sel}[5m])))",
        "KM controller-manager dashboard",
        top_bucket=WORKQUEUE_TOP_BUCKET,
    ),
    # --- kubelet ------------------------------------------------------------------------
    CatalogEntry(
        "kubelet.pod_start_p99",
        "kubelet",
        "Pod startup p99 across kubelets (SLI excludes image pulls)",
        "histogram_quantile(0.99, sum by (le) (rate(${metric}_bucket{$sel}[5m])))",
        "SIG-scalability pod startup SLO p99 <= 5 s; seed 1.1 (< 30 s); KM kubelet dashboard",
        ("kubelet_pod_start_sli_duration_seconds", "kubelet_pod_start_duration_seconds"),
        POD_START_TOP_BUCKET,
    ),
    CatalogEntry(
        "kubelet.runtime_ops_p99",
        "kubelet",
        "Container runtime operation p99 per operation type",
        "histogram_quantile(0.99, sum by (operation_type, le) "
        "(rate(kubelet_runtime_operations_duration_seconds_bucket{$sel}[5m])))",
        "KM kubelet dashboard; seed 1.1 (container creation < 2 s)",
        top_bucket=RUNTIME_OPS_TOP_BUCKET,
    ),
    CatalogEntry(
        "kubelet.runtime_ops_rate",
        "kubelet",
        "Container runtime operations per second per operation type",
        "sum by (operation_type) (rate(kubelet_runtime_operations_total{$sel}[5m]))",
        "KM kubelet dashboard; seed 1.1 (runtime ops > 50/s)",
    ),
    CatalogEntry(
        "kubelet.runtime_ops_error_rate",
        "kubelet",
        "Container runtime operation errors per second per operation type",
        "sum by (operation_type) (rate(kubelet_runtime_operations_errors_total{$sel}[5m]))",
        "KM kubelet dashboard",
    ),
    CatalogEntry(
        "kubelet.targets",
        "kubelet",
        "Kubelet targets, one series each; a node-name label matcher narrows them to one node",
        "group by (instance) (kubelet_runtime_operations_total{$sel})",
        "KM kubelet dashboard (per instance); kube-prometheus relabels a `node` label onto kubelet targets",
    ),
    CatalogEntry(
        "kubelet.targets_on_node",
        "kubelet",
        "Kubelet targets (IP:10250, or the node name via the API proxy) whose host is an address or "
        "the name of the node $wanted names ($by_host is node.names_by_host)",
        "group by (instance) (label_replace(group by (instance) (kubelet_runtime_operations_total{$sel}), "
        '"k8stop_host", "$$1", "instance", "$host_regex") * on (k8stop_host) group_left (k8stop_node) ($by_host)'
        " and on (k8stop_node) $wanted)",
        "KM kubelet dashboard (per instance); KSM kube_node_info (internal_ip)",
        joins=("node", "kube_state_metrics"),
    ),
    # --- pods on one node, from cAdvisor on its kubelet (narrowed by the kubelet's instance) --
    CatalogEntry(
        "node.pod_cpu_usage",
        "cadvisor",
        "CPU cores used per pod over 5m (cAdvisor: works without metrics-server)",
        'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{$sel container!="", container!="POD"}[5m]))',
        "KM node:node_cpu / container_cpu_usage_seconds_total recording rules (cAdvisor); kubectl top pod",
    ),
    CatalogEntry(
        "node.pod_memory_working_set",
        "cadvisor",
        "Working set bytes per pod (cAdvisor: what kubectl top and the kubelet's eviction count)",
        'sum by (namespace, pod) (container_memory_working_set_bytes{$sel container!="", container!="POD"})',
        "KM container_memory_working_set_bytes; kubectl top pod",
    ),
    # --- kubelet health per node ---------------------------------------------------------
    CatalogEntry(
        "kubelet.pleg_relist_p99",
        "kubelet",
        "PLEG relist p99 per kubelet target: how long the kubelet takes to list every container "
        "from the runtime (it relists every second; slow relists delay every pod status)",
        "histogram_quantile(0.99, sum by (instance, le) (rate(kubelet_pleg_relist_duration_seconds_bucket{$sel}[5m])))",
        "KM KubeletPlegDurationHigh (p99 >= 10 s for 5m)",
        top_bucket=PLEG_TOP_BUCKET,
    ),
    CatalogEntry(
        "kubelet.evictions_1h",
        "kubelet",
        "Pods evicted in the last hour per kubelet target and eviction signal (the counter is "
        "kubelet_evictions, or kubelet_evictions_total where an OpenMetrics scrape appends the suffix)",
        "sum by (instance, eviction_signal) (increase($metric{$sel}[1h])) > 0",
        "KM KubeNodeEviction (any eviction, by eviction_signal)",
        ("kubelet_evictions", "kubelet_evictions_total"),
    ),
    CatalogEntry(
        "kubelet.target_nodes",
        "kubelet",
        "The node of each kubelet target, where its instance's host is a node's address or name "
        "($by_host is node.names_by_host)",
        "group by (instance, k8stop_node) (label_replace(group by (instance) "
        "(kubelet_runtime_operations_total{$sel}), "
        '"k8stop_host", "$$1", "instance", "$host_regex") * on (k8stop_host) group_left (k8stop_node) ($by_host))',
        "KM kubelet dashboard (per instance); KSM kube_node_info (internal_ip)",
        joins=("node", "kube_state_metrics"),
    ),
    CatalogEntry(
        "node.pressure_conditions",
        "kube_state_metrics",
        "Nodes reporting a pressure condition (MemoryPressure, DiskPressure, PIDPressure)",
        'max by (node, condition) (kube_node_status_condition{$sel condition=~"MemoryPressure|DiskPressure|PIDPressure", '
        'status="true"}) == 1',
        "KSM node-metrics kube_node_status_condition; KM KubeNodePressure",
    ),
    CatalogEntry(
        "node.ready_changes",
        "kube_state_metrics",
        "Changes of each node's Ready condition over the last 15m (an HA pair of "
        "kube-state-metrics reports each node twice: max, not sum)",
        'max by (node) (changes(kube_node_status_condition{$sel condition="Ready", status="true"}[15m])) > 0',
        "KM KubeNodeReadinessFlapping (> 2 changes in 15m, for 15m)",
    ),
    *(
        CatalogEntry(
            f"node.psi_{resource}_full",
            "node",
            f'Share of time every task on the node was stalled on {resource} (PSI "full", node-exporter\'s '
            "pressure collector; absent on kernels without PSI)",
            f"max by (instance) (rate(node_pressure_{resource}_stalled_seconds_total{{$sel}}[5m]))",
            "node_exporter pressure collector; Linux Documentation/accounting/psi.rst (full: no task could "
            "make progress); no NM alert: systemd-oomd DefaultMemoryPressureLimit 60 %",
        )
        for resource in ("memory", "io")
    ),
    CatalogEntry(
        "kubelet.runtime_ops_p99_by_target",
        "kubelet",
        "Container runtime operation p99 per kubelet target and operation type",
        "histogram_quantile(0.99, sum by (instance, operation_type, le) "
        "(rate(kubelet_runtime_operations_duration_seconds_bucket{$sel}[5m])))",
        "KM kubelet dashboard (runtime operations duration by instance, operation_type); seed 1.1 "
        "(container creation < 2 s)",
        top_bucket=RUNTIME_OPS_TOP_BUCKET,
    ),
    # --- HPA (kube-state-metrics 2.x names, then 1.x kube_hpa_*) -----------------------------
    CatalogEntry(
        "hpa.current_replicas",
        "kube_state_metrics",
        "Current replicas per HorizontalPodAutoscaler",
        "max by (namespace, horizontalpodautoscaler, hpa) (${metric}_status_current_replicas{$sel})",
        "KM KubeHpaMaxedOut / KubeHpaReplicasMismatch; KSM horizontalpodautoscaler-metrics (kube_hpa_* before 2.0)",
        ("kube_horizontalpodautoscaler", "kube_hpa"),
    ),
    CatalogEntry(
        "hpa.desired_replicas",
        "kube_state_metrics",
        "Desired replicas per HorizontalPodAutoscaler (what its metrics ask for)",
        "max by (namespace, horizontalpodautoscaler, hpa) (${metric}_status_desired_replicas{$sel})",
        "KM KubeHpaReplicasMismatch (desired != current for 15m)",
        ("kube_horizontalpodautoscaler", "kube_hpa"),
    ),
    CatalogEntry(
        "hpa.max_replicas",
        "kube_state_metrics",
        "maxReplicas per HorizontalPodAutoscaler",
        "max by (namespace, horizontalpodautoscaler, hpa) (${metric}_spec_max_replicas{$sel})",
        "KM KubeHpaMaxedOut (current == max for 15m)",
        ("kube_horizontalpodautoscaler", "kube_hpa"),
    ),
    CatalogEntry(
        "hpa.min_replicas",
        "kube_state_metrics",
        "minReplicas per HorizontalPodAutoscaler",
        "max by (namespace, horizontalpodautoscaler, hpa) (${metric}_spec_min_replicas{$sel})",
        "KM KubeHpaMaxedOut (max != min: a fixed size is not maxed out)",
        ("kube_horizontalpodautoscaler", "kube_hpa"),
    ),
    CatalogEntry(
        "hpa.mismatch_held",
        "kube_state_metrics",
        "1 where an autoscaler's current replicas differed from its desired replicas at every minute "
        "of the last $for, else 0; only autoscalers that existed $for ago (a younger one has not held anything)",
        "min_over_time((max by (namespace, horizontalpodautoscaler, hpa) (${metric}_status_desired_replicas{$sel}) "
        "!= bool on (namespace, horizontalpodautoscaler, hpa) "
        "max by (namespace, horizontalpodautoscaler, hpa) (${metric}_status_current_replicas{$sel}))[$for:1m]) "
        "and on (namespace, horizontalpodautoscaler, hpa) "
        "max by (namespace, horizontalpodautoscaler, hpa) (${metric}_status_current_replicas{$sel} offset $for)",
        "KM KubeHpaReplicasMismatch (desired != current, for: 15m)",
        ("kube_horizontalpodautoscaler", "kube_hpa"),
    ),
    # --- requests vs allocatable (kube-state-metrics v2 `resource` label, or v1 families) --
    # As kubernetes-mixin's namespace_*:kube_pod_container_resource_requests:sum rules: the
    # containers of Pending and Running pods (finished pods hold nothing; Pending ones are demand).
    *(
        CatalogEntry(
            f"capacity.{resource}_requests",
            "kube_state_metrics",
            f"{resource.capitalize()} requested by the containers of Pending and Running pods, summed",
            f'sum(max by (namespace, pod, container) ($metric{{$sel resource=~"{resource}|"}}) '
            "* on (namespace, pod) group_left () max by (namespace, pod) "
            '(kube_pod_status_phase{$sel phase=~"Pending|Running"} == 1))',
            "KM rules namespace_cpu/memory:kube_pod_container_resource_requests:sum; KSM pod-metrics "
            f"(v1 {v1} removed in 2.0)",
            ("kube_pod_container_resource_requests", v1),
        )
        for resource, v1 in (
            ("cpu", "kube_pod_container_resource_requests_cpu_cores"),
            ("memory", "kube_pod_container_resource_requests_memory_bytes"),
        )
    ),
    *(
        CatalogEntry(
            f"capacity.{resource}_allocatable",
            "kube_state_metrics",
            f"{resource.capitalize()} allocatable per node (one series per node: an HA pair of "
            "kube-state-metrics reports each twice)",
            f'max by (node) ($metric{{$sel resource=~"{resource}|"}})',
            f"KM KubeCPUOvercommit / KubeMemoryOvercommit; KSM node-metrics (v1 {v1} removed in 2.0)",
            ("kube_node_status_allocatable", v1),
        )
        for resource, v1 in (
            ("cpu", "kube_node_status_allocatable_cpu_cores"),
            ("memory", "kube_node_status_allocatable_memory_bytes"),
        )
    ),
    # --- filesystem runway (node-exporter): when the trend fills each filesystem ----------
    # deriv() is the least-squares slope predict_linear extrapolates; seconds left = free / -slope,
    # only for filesystems that are shrinking (`< 0` drops the rest).
    CatalogEntry(
        "node.filesystem_space_left",
        "node",
        "Seconds until each filling filesystem has no space left, at the trend over $window",
        f"{_FS_BY} (node_filesystem_avail_bytes{{$sel {FILESYSTEMS}}}) / -({_FS_BY} "
        f"(deriv(node_filesystem_avail_bytes{{$sel {FILESYSTEMS}}}[$window])) < 0)",
        "NM NodeFilesystemSpaceFillingUp (predict_linear: full within 24 h warning, 4 h critical)",
    ),
    CatalogEntry(
        "node.filesystem_inodes_left",
        "node",
        "Seconds until each filling filesystem has no inodes left, at the trend over $window",
        f"{_FS_BY} (node_filesystem_files_free{{$sel {FILESYSTEMS}}}) / -({_FS_BY} "
        f"(deriv(node_filesystem_files_free{{$sel {FILESYSTEMS}}}[$window])) < 0)",
        "NM NodeFilesystemFilesFillingUp (predict_linear: full within 24 h warning, 4 h critical)",
    ),
    CatalogEntry(
        "node.filesystem_space_free",
        "node",
        "Free space ratio per filesystem (available to unprivileged users / size)",
        f"{_FS_BY} (node_filesystem_avail_bytes{{$sel {FILESYSTEMS}}}) "
        f"/ {_FS_BY} (node_filesystem_size_bytes{{$sel {FILESYSTEMS}}})",
        "NM NodeFilesystemAlmostOutOfSpace / SpaceFillingUp (free < 40 % warning gate)",
    ),
    CatalogEntry(
        "node.filesystem_inodes_free",
        "node",
        "Free inode ratio per filesystem",
        f"{_FS_BY} (node_filesystem_files_free{{$sel {FILESYSTEMS}}}) "
        f"/ {_FS_BY} (node_filesystem_files{{$sel {FILESYSTEMS}}})",
        "NM NodeFilesystemAlmostOutOfFiles / FilesFillingUp (free < 40 % warning gate)",
    ),
    # --- workloads: containers against their limits (cAdvisor + kube-state-metrics) -------
    # Aggregated by (namespace, pod, container), never by node or instance: cAdvisor series carry
    # `node` under kube-prometheus but only `instance` elsewhere; the pod's node comes from
    # kube_pod_info. `container!=""` drops the pod-level cgroup, `container!="POD"` the pause
    # container of older runtimes.
    CatalogEntry(
        "workload.cpu_throttled_ratio",
        "cadvisor",
        "Share of CFS periods in which each container was throttled over $window",
        'sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{$sel container!=""}'
        "[$window])) / sum by (namespace, pod, container) "
        '(increase(container_cpu_cfs_periods_total{$sel container!=""}[$window]))',
        "KM CPUThrottlingHigh (throttled / periods > 25 % for 15m)",
    ),
    CatalogEntry(
        "workload.cpu_usage",
        "cadvisor",
        "CPU cores used per container over $window",
        "sum by (namespace, pod, container) "
        '(rate(container_cpu_usage_seconds_total{$sel container!="", container!="POD"}[$window]))',
        "KM node:node_cpu / container_cpu_usage_seconds_total recording rules (cAdvisor)",
    ),
    CatalogEntry(
        "workload.cpu_limit",
        "kube_state_metrics",
        "CPU limit in cores per container (KSM v2 `resource` label, or the v1 per-resource family "
        "without it; the `unit` label differs by version and is not matched)",
        'max by (namespace, pod, container) ($metric{$sel resource=~"cpu|"})',
        "KSM pod-metrics kube_pod_container_resource_limits (v2); _limits_cpu_cores (v1, removed in 2.0)",
        ("kube_pod_container_resource_limits", "kube_pod_container_resource_limits_cpu_cores"),
    ),
    CatalogEntry(
        "workload.memory_working_set",
        "cadvisor",
        "Working set bytes per container (what the kernel's OOM killer and the kubelet count)",
        'max by (namespace, pod, container) (container_memory_working_set_bytes{$sel container!="", container!="POD"})',
        "KM container_memory_working_set_bytes (kubelet eviction and kubectl top use the working set)",
    ),
    CatalogEntry(
        "workload.memory_limit",
        "kube_state_metrics",
        "Memory limit in bytes per container (KSM v2 `resource` label, or the v1 per-resource family)",
        'max by (namespace, pod, container) ($metric{$sel resource=~"memory|"})',
        "KSM pod-metrics kube_pod_container_resource_limits (v2); _limits_memory_bytes (v1, removed in 2.0)",
        ("kube_pod_container_resource_limits", "kube_pod_container_resource_limits_memory_bytes"),
    ),
    CatalogEntry(
        "workload.pod_info",
        "kube_state_metrics",
        "Each pod's node and controller (created_by_kind / created_by_name)",
        'max by (namespace, pod, node, created_by_kind, created_by_name) (kube_pod_info{$sel node!=""})',
        "KSM pod-metrics kube_pod_info",
    ),
    # --- drill-downs (one subject narrowed by extra matchers; $window sized to the chart) --
    CatalogEntry(
        "drill.apiserver_latency_range",
        "apiserver",
        "Latency quantile over time for one (verb, resource), long-running requests excluded",
        "histogram_quantile($q, sum by (le) (rate(${metric}_bucket{$sel " + API_LATENCY_FILTER + "}[$window])))",
        "seed 1.1 (API p99 < 100 ms); KM apiserver dashboard (request duration by verb)",
        APISERVER_LATENCY_METRICS,
        APISERVER_TOP_BUCKET,
    ),
    CatalogEntry(
        "drill.apiserver_rate_range",
        "apiserver",
        "Request rate over time for one (verb, resource)",
        "sum(rate(apiserver_request_total{$sel}[$window]))",
        "seed 1.1 (throughput); KM apiserver dashboard",
    ),
    CatalogEntry(
        "drill.apiserver_rate_by_code",
        "apiserver",
        "Request rate per response code for one (verb, resource)",
        "sum by (code) (rate(apiserver_request_total{$sel}[5m]))",
        "KM kube_apiserver-availability (code_resource rate5m); k8s APF (429)",
    ),
    CatalogEntry(
        "drill.apiserver_p99_by_instance",
        "apiserver",
        "p99 latency per API-server instance for one (verb, resource)",
        "histogram_quantile(0.99, sum by (instance, le) (rate(${metric}_bucket{$sel " + API_LATENCY_FILTER + "}[5m])))",
        "KM apiserver dashboard (per instance)",
        APISERVER_LATENCY_METRICS,
        APISERVER_TOP_BUCKET,
    ),
    CatalogEntry(
        "drill.apiserver_rate_by_instance",
        "apiserver",
        "Request rate per API-server instance for one (verb, resource)",
        "sum by (instance) (rate(apiserver_request_total{$sel}[5m]))",
        "KM apiserver dashboard (per instance)",
    ),
    CatalogEntry(
        "drill.apiserver_inflight_by_instance",
        "apiserver",
        "Requests in flight per API-server instance and kind (the limits are per instance)",
        "sum by (instance, request_kind) (apiserver_current_inflight_requests{$sel})",
        "k8s server/config.go --max-requests-inflight / --max-mutating-requests-inflight apply per server",
    ),
    CatalogEntry(
        "drill.etcd_disk_range",
        "etcd",
        "WAL fsync or backend commit quantile over time for one member ($disk picks which)",
        "histogram_quantile($q, sum by (le) (rate(etcd_disk_${disk}_duration_seconds_bucket{$sel}[$window])))",
        "seed 1.1/2.2 (disk < 10 ms); EM dashboards (fsync and commit by instance)",
        top_bucket=ETCD_DISK_TOP_BUCKET,
    ),
    CatalogEntry(
        "drill.etcd_db_size_range",
        "etcd",
        "Database size over time for one member (growth toward the quota)",
        "max($metric{$sel})",
        "EM etcdDatabaseQuotaLowSpace / etcdDatabaseHighFragmentationRatio",
        ("etcd_mvcc_db_total_size_in_bytes", "etcd_debugging_mvcc_db_total_size_in_bytes"),
    ),
    CatalogEntry(
        "drill.etcd_peer_rtt_by_peer",
        "etcd",
        "Peer round-trip p99 from one member to each peer",
        "histogram_quantile(0.99, sum by (To, le) (rate(etcd_network_peer_round_trip_time_seconds_bucket{$sel}[5m])))",
        "seed 1.1 (network < 5 ms); EM etcdMemberCommunicationSlow (> 0.15 s)",
        top_bucket=ETCD_PEER_RTT_TOP_BUCKET,
    ),
    CatalogEntry(
        "drill.pod_restarts_counter",
        "kube_state_metrics",
        "Restart counter per container of one pod (its history shows when restarts happened)",
        "max by (container) (kube_pod_container_status_restarts_total{$sel})",
        "KSM pod-metrics; seed 6.2 (restart diagnosis)",
    ),
    # --- tuning and sizing audit (queries/audit): what Prometheus knows better than a flag ---
    CatalogEntry(
        "audit.etcd_quota",
        "etcd",
        "The smallest etcd backend quota among members (the one that fills first)",
        "min(etcd_server_quota_backend_bytes{$sel})",
        "etcd server/storage/quota.go (default 2 GiB); seed 2.2 / 8.1 (8 GiB)",
    ),
    CatalogEntry(
        "audit.etcd_members",
        "etcd",
        "etcd members Prometheus scrapes",
        "count(max by (instance) (etcd_server_has_leader{$sel}))",
        "seed 7.1 (3 members medium, 5 large); etcd FAQ (odd sizes, 5 for production)",
    ),
    CatalogEntry(
        "audit.apf_total_seats",
        "apiserver",
        "Total APF seats of the busiest API server: nominal seats summed over priority levels, which "
        "is --max-requests-inflight + --max-mutating-requests-inflight when APF is on",
        "max(sum by (instance) ($metric{$sel}))",
        "k8s flowcontrol (server concurrency limit = sum of the inflight flags); website flow-control.md",
        ("apiserver_flowcontrol_nominal_limit_seats", "apiserver_flowcontrol_request_concurrency_limit"),
    ),
    CatalogEntry(
        "audit.conntrack_limit",
        "node",
        "The smallest conntrack table size over nodes (nf_conntrack_max, set by kube-proxy's conntrack settings)",
        "min(node_nf_conntrack_entries_limit{$sel})",
        "NM NodeHighNumberConntrackEntriesUsed; kube-proxy conntrack.maxPerCore / conntrack.min",
    ),
    CatalogEntry(
        "audit.conntrack_used_max",
        "node",
        "The fullest conntrack table over nodes, entries / limit",
        "max(max by (instance) (node_nf_conntrack_entries{$sel}) / max by (instance) (node_nf_conntrack_entries_limit{$sel}))",
        "NM NodeHighNumberConntrackEntriesUsed (> 75 %)",
    ),
    CatalogEntry(
        "audit.control_plane_capacity",
        "kube_state_metrics",
        "CPU cores and memory bytes of each control-plane node",
        'max by (node, resource) (kube_node_status_capacity{$sel resource=~"cpu|memory"}) '
        '* on (node) group_left () max by (node) (kube_node_role{$sel role=~"control-plane|master"})',
        "KSM node-metrics (kube_node_status_capacity, kube_node_role); seed 7.1 / 8.1 sizing",
    ),
    # --- fleet overview (queries/prom/fleet.py): one row per cluster, aggregated on the server
    # by $cl (the cluster label), so a fleet of any size costs the same few queries. topk keeps
    # the worst subject's labels for the row's top finding. -----------------------------------
    CatalogEntry(
        "fleet.api_p99",
        "apiserver",
        "Worst request latency p99 per cluster over (verb, resource) pairs with at least "
        "$min_requests requests in 5 m, LISTs excluded (their SLO is 5-30 s, not 1 s)",
        "topk by ($cl) (1, histogram_quantile(0.99, sum by ($cl, verb, resource, le) (rate(${metric}_bucket{$sel "
        + API_LATENCY_FILTER
        + ', verb!="LIST"}[5m]))) and on ($cl, verb, resource) (sum by ($cl, verb, resource) '
        "(increase(${metric}_count{$sel " + API_LATENCY_FILTER + ', verb!="LIST"}[5m])) >= $min_requests))',
        "seed 1.1 (API p99 < 100 ms); CL2 api_responsiveness (SLO 1 s mutating/single object)",
        APISERVER_LATENCY_METRICS,
        APISERVER_TOP_BUCKET,
    ),
    CatalogEntry(
        "fleet.etcd_fsync_p99",
        "etcd",
        "The slowest member's WAL fsync p99 per cluster",
        "topk by ($cl) (1, histogram_quantile(0.99, sum by ($cl, instance, le) "
        "(rate(etcd_disk_wal_fsync_duration_seconds_bucket{$sel}[5m]))))",
        "seed 1.1/6.1 (disk write < 10 ms); EM etcdHighFsyncDurations",
        top_bucket=ETCD_DISK_TOP_BUCKET,
    ),
    CatalogEntry(
        "fleet.node_saturation",
        "node",
        "The most saturated node-exporter target per cluster: its worst of CPU busy, memory used "
        "and root filesystem used (`resource` says which)",
        "topk by ($cl) (1, "
        '(label_replace(1 - avg by ($cl, instance) (sum without (mode) (rate(node_cpu_seconds_total{$sel mode=~"idle|iowait|steal"}[5m]))), '
        '"resource", "cpu", "", "")) or (label_replace(1 - max by ($cl, instance) (node_memory_MemAvailable_bytes{$sel}) '
        '/ max by ($cl, instance) (node_memory_MemTotal_bytes{$sel}), "resource", "memory", "", "")) '
        f"or (label_replace(1 - max by ($cl, instance) (node_filesystem_avail_bytes{{$sel {_ROOT_FS}}}) "
        f'/ max by ($cl, instance) (node_filesystem_size_bytes{{$sel {_ROOT_FS}}}), "resource", "disk", "", "")))',
        "NM instance:node_cpu_utilisation:rate5m / memory / filesystem; seed 8.1 node saturation 70/85/95 %",
    ),
    CatalogEntry(
        "fleet.restarts_1h",
        "kube_state_metrics",
        "The container with the most restarts in the last hour per cluster",
        "topk by ($cl) (1, max by ($cl, namespace, pod, container) "
        "(increase(kube_pod_container_status_restarts_total{$sel}[1h])))",
        "KSM pod-metrics; KM KubePodCrashLooping",
    ),
    # --- k8stop's evaluation of the seed's alert rules (seed 6.1) -----------------------
    # --- scrape health ------------------------------------------------------------------
    CatalogEntry(
        "targets.down",
        "targets",
        "Scrape targets Prometheus has not reached for the whole hold window ($window): the target "
        "behind a panel whose series stopped",
        "group by (job, instance) (max_over_time(up{$sel}[$window]) == 0)",
        "kubernetes-mixin / kube-prometheus TargetDown (up == 0 for 10m, warning)",
    ),
    CatalogEntry(
        "targets.per_job",
        "targets",
        "How many scrape targets each job has, to say what share of it is down",
        "count by (job) (up{$sel})",
        "kubernetes-mixin / kube-prometheus TargetDown (share of a job's targets down > 10 %)",
    ),
    CatalogEntry(
        "builtin.apiserver_latency_high",
        "apiserver",
        "APIServerLatencyHigh: p99 per (verb, resource) above $threshold s, held for $for",
        "min_over_time((histogram_quantile(0.99, sum by (verb, resource, le) (rate(${metric}_bucket{$sel "
        + API_LATENCY_FILTER
        + "}[5m]))))[$for:$res]) > $threshold",
        "seed 6.1 APIServerLatencyHigh (p99 > 1 s for 10m, warning); by (verb, resource) and "
        "long-running requests excluded as in CL2, since the seed's raw expression mixes WATCH in",
        APISERVER_LATENCY_METRICS,
    ),
    CatalogEntry(
        "builtin.etcd_disk_latency_high",
        "etcd",
        "EtcdDiskLatencyHigh: WAL fsync p99 per member above $threshold s, held for $for",
        "min_over_time((histogram_quantile(0.99, sum by (instance, le) "
        "(rate(etcd_disk_wal_fsync_duration_seconds_bucket{$sel}[5m]))))[$for:$res]) > $threshold",
        "seed 6.1 EtcdDiskLatencyHigh (fsync p99 > 10 ms for 5m, critical)",
    ),
    CatalogEntry(
        "builtin.node_cpu_high",
        "node",
        "NodeCPUHigh: CPU busy ratio per node above $threshold, held for $for",
        "min_over_time((1 - avg by (instance) (sum without (mode) "
        '(rate(node_cpu_seconds_total{$sel mode=~"idle|iowait|steal"}[5m]))))[$for:$res]) > $threshold',
        "seed 6.1 NodeCPUHigh (> 80 % for 15m, warning); busy = not idle/iowait/steal as in NM",
    ),
)

CATALOG: dict[str, CatalogEntry] = {entry.id: entry for entry in _ENTRIES}

# Families whose presence decides NotExposed for a whole feed.
EXPOSURE_METRICS: dict[str, str] = {
    "apiserver": "apiserver_request_total",
    "etcd": "etcd_disk_wal_fsync_duration_seconds_bucket",
    "node": "node_cpu_seconds_total",
    "kube_state_metrics": "kube_pod_container_status_restarts_total",
    "scheduler": "scheduler_schedule_attempts_total",
    "controller_manager": "workqueue_depth",
    "kubelet": "kubelet_runtime_operations_total",
    "cadvisor": "container_cpu_usage_seconds_total",
}


def probe_names() -> tuple[str, ...]:
    """Every series name the probe checks: fallback candidates and exposure metrics."""
    names: list[str] = []
    for entry in _ENTRIES:
        names.extend(series_name(entry, family) for family in entry.fallbacks)
    names.extend(EXPOSURE_METRICS.values())
    return tuple(dict.fromkeys(names))


def series_name(entry: CatalogEntry, family: str) -> str:
    """The series name that proves `family` exists for this entry: the family plus the suffix the
    template reads it with (`${metric}_bucket`, `${metric}_spec_max_replicas`), if any."""
    suffix = re.search(r"\$\{metric\}(\w*)", entry.template)
    return family + (suffix.group(1) if suffix else "")


def selector_prefix(matcher: str) -> str:
    matcher = matcher.strip().strip("{}").strip().rstrip(",")
    return f"{matcher}, " if matcher else ""


def promql_string(text: str) -> str:
    """Escape text for use inside a double-quoted PromQL string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def regex_alternatives(values: list[str] | tuple[str, ...]) -> str:
    """A RE2 alternation matching exactly these values, escaped for a PromQL string."""
    return promql_string("|".join(re.escape(v) for v in values))


def cluster_matcher(settings: Settings) -> str:
    """`cluster="prod-us"` when the session is scoped to one cluster of a fleet, else ""
    (queries/prom/scope.py); the value is escaped, the label name validated by the config."""
    if not settings.cluster or not settings.cluster_label:
        return ""
    return f'{settings.cluster_label}="{promql_string(settings.cluster)}"'


class Catalog:
    """Renders catalog entries for one Settings: selectors, overrides, chosen metric names, and
    the cluster scope, which goes into every selector so nothing can read another cluster."""

    def __init__(self, settings: Settings) -> None:
        self._selectors: Selectors = settings.selectors
        self._scope = selector_prefix(cluster_matcher(settings))
        self._overrides = dict(settings.query_overrides)
        unknown = sorted(set(self._overrides) - set(CATALOG))
        if unknown:
            raise ConfigError(
                f"query_overrides: unknown query id(s) {', '.join(unknown)} (known: {', '.join(sorted(CATALOG))})"
            )

    def overridden(self, entry_id: str) -> bool:
        return entry_id in self._overrides

    def render(
        self,
        entry_id: str,
        *,
        metric: str | None = None,
        extra_matchers: str = "",
        **params: str,
    ) -> str:
        entry = CATALOG[entry_id]
        template = self._overrides.get(entry_id, entry.template)
        configured = getattr(self._selectors, entry.component)
        sel = selector_prefix(configured) + self._scope + selector_prefix(extra_matchers)
        values: dict[str, str] = {"sel": sel, "host_regex": HOST_REGEX, **params}
        for component in entry.joins:
            values[f"sel_{component}"] = selector_prefix(getattr(self._selectors, component)) + self._scope
        values["metric"] = metric or (entry.fallbacks[0] if entry.fallbacks else "")
        return Template(template).safe_substitute(values)

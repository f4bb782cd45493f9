"""Run the test API server standalone: python -m tests.kubeapi --nodes N --pods M --kubeconfig FILE."""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys

from .cluster import Cluster
from .kubeconfig import write_kubeconfig
from .scenario import PROMETHEUS_SERVICE
from .server import KubeApiServer


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.kubeapi", description=__doc__)
    p.add_argument("--nodes", type=int, default=0, help="generated nodes (0 with --pods 0: the small scenario)")
    p.add_argument("--pods", type=int, default=0, help="generated pods")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token", default="test-token")
    p.add_argument("--no-tls", action="store_true", help="plain http (kubectl then sends no token)")
    p.add_argument("--kubeconfig", help="write a kubeconfig for the server here")
    p.add_argument("--churn", type=float, default=0.0, help="pod watch events per second")
    p.add_argument("--bookmark-interval", type=float, default=3.0)
    p.add_argument(
        "--watch-list", choices=("on", "reject", "ignore"), default="reject", help="streaming lists (KEP-3157)"
    )
    p.add_argument("--prometheus-url", help="backend of the monitoring/prometheus-k8s service proxy")
    return p.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    if args.nodes or args.pods:
        cluster = Cluster.generate(nodes=args.nodes, pods=args.pods, seed=args.seed)
    else:
        cluster = Cluster.small()
    server = KubeApiServer(
        cluster,
        token=args.token,
        bookmark_interval=args.bookmark_interval,
        churn=args.churn,
        tls=not args.no_tls,
        watch_list=args.watch_list,
    )
    url = await server.start(args.host, args.port)
    if args.prometheus_url:
        server.register_service_backend(PROMETHEUS_SERVICE[0], PROMETHEUS_SERVICE[1], args.prometheus_url)
    if args.kubeconfig:
        write_kubeconfig(args.kubeconfig, url, args.token)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"serving {url} nodes={args.nodes} pods={args.pods} churn={args.churn}/s rss={rss_mib:.0f}MiB"
        + (f" kubeconfig={args.kubeconfig}" if args.kubeconfig else ""),
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    try:
        asyncio.run(serve(parse_args(sys.argv[1:] if argv is None else argv)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

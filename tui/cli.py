"""Command line: `k8stop [flags]`, `k8stop demo`, `k8stop replay FILE`, `k8stop report`, `k8stop diagnose`.

Imports stay light here: Textual and the kube client load only once a screen is needed.
A bad flag or config is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

from k8stop.queries.config import ConfigError, Settings, check_cluster_label, config_path, load_config_file

EXIT_USAGE = 2
REPORT_EXIT_CODES = """exit codes:
  0  the report was written and every configured source answered
  2  usage or configuration error (one line on stderr)
  3  no data source could be reached (the report is still written)
  4  a configured source failed while another answered (--fail-on unreachable: 0)"""
COMMANDS = ("demo", "replay", "report", "diagnose")
# Header names and query parameters whose values are credentials (case-insensitive)
SECRET_HEADERS = ("authorization", "x-api-key", "api-key", "cookie")
SECRET_WORDS = ("token", "secret", "password", "apikey", "api_key")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see '{self.prog} --help')")

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        """As argparse, but a mistyped flag or subcommand gets "did you mean ...?"."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            hint = did_you_mean(extras, self)
            self.error(f"unrecognized arguments: {' '.join(extras)}" + (f"; did you mean {hint}?" if hint else ""))
        return parsed


def did_you_mean(extras: list[str], parser: argparse.ArgumentParser) -> str:
    """The known flag (or subcommand) closest to the first unrecognised word, "" when none is close."""
    word = extras[0].partition("=")[0]
    if word.startswith("-"):
        known = [option for action in parser._actions for option in action.option_strings]
    else:
        known = list(COMMANDS)
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
    return close[0] if close else ""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("k8stop")
    except PackageNotFoundError:
        return "unknown"


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    kube = parser.add_argument_group("Kubernetes API")
    kube.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    kube.add_argument("--context", help="kubeconfig context to use")
    kube.add_argument("-n", "--namespace", help="only watch pods and events in this namespace")
    kube.add_argument("--no-kube", action="store_true", help="Prometheus only: do not contact the API server")
    prom = parser.add_argument_group("Prometheus (also Thanos, Mimir, VictoriaMetrics)")
    prom.add_argument(
        "--prometheus-url",
        default=os.environ.get("K8STOP_PROMETHEUS_URL"),
        help="base URL (env K8STOP_PROMETHEUS_URL); default: discover a Prometheus Service in the cluster",
    )
    prom.add_argument("--prometheus-bearer-token-file", metavar="FILE")
    prom.add_argument("--prometheus-basic-user", metavar="USER")
    prom.add_argument("--prometheus-basic-password-file", metavar="FILE")
    prom.add_argument("--prometheus-ca-file", metavar="FILE", help="CA bundle to verify Prometheus' certificate")
    prom.add_argument(
        "--prometheus-header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="extra header, e.g. 'X-Scope-OrgID: tenant1' (repeatable); 'NAME: @FILE' reads the value "
        "from FILE on every request (for secrets: a flag's value is visible to every local user)",
    )
    prom.add_argument(
        "--insecure-skip-tls-verify",
        action="store_true",
        help="do not verify Prometheus' TLS certificate (the header says so)",
    )
    prom.add_argument("--no-prometheus", action="store_true", help="kube API only (metrics-server numbers)")
    prom.add_argument(
        "--cluster",
        metavar="NAME",
        help="a fleet backend (Thanos, Mimir...): read only this cluster (every query gets the cluster matcher)",
    )
    prom.add_argument(
        "--cluster-label",
        metavar="LABEL",
        help="the label telling a fleet's clusters apart (default 'cluster'; '' for none)",
    )
    parser.add_argument("--refresh", type=float, metavar="SECONDS", help="poll interval (default 2)")


def build_parser(command: str | None) -> argparse.ArgumentParser:
    prog = "k8stop" if command is None else f"k8stop {command}"
    descriptions = {
        None: "Live performance triage for Kubernetes control planes and nodes.\n"
        "Subcommands: demo, replay FILE, report, diagnose (see 'k8stop COMMAND --help').",
        "demo": "Play the bundled recording of an incident, on a loop, with no cluster needed.",
        "replay": "Play a recording through the dashboard, drill-downs and diagnosis.",
        "report": "Write a performance report without the TUI (text, markdown or json).",
        "diagnose": "Open the dashboard and start the guided diagnosis.",
    }
    parser = _Parser(
        prog=prog,
        description=descriptions[command],
        epilog=REPORT_EXIT_CODES if command == "report" else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"k8stop {_version()}")
    # Every command grades: thresholds and selectors come from the same file everywhere.
    parser.add_argument("--config", metavar="FILE", help=f"config file (default {config_path()})")
    if command in (None, "report", "diagnose"):
        _connection_flags(parser)
    if command in (None, "diagnose"):
        parser.add_argument("--record", metavar="FILE", help="record every feed update to FILE")
    if command == "replay":
        parser.add_argument("file", help="recording made with --record")
    if command in ("replay", "demo"):
        parser.add_argument("--speed", type=float, default=1.0, choices=(1.0, 2.0, 4.0, 8.0))
    if command == "report":
        parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
        parser.add_argument("--output", "-o", metavar="FILE", help="write the report here (default stdout)")
        parser.add_argument("--replay", metavar="FILE", help="report on a recording instead of a live cluster")
        parser.add_argument(
            "--at",
            metavar="TIME",
            help="with --replay: moment to report on: RFC 3339, or an offset from the start "
            "as the replay bar shows it (M:SS, H:MM:SS) or in seconds",
        )
        parser.add_argument(
            "--fail-on",
            choices=("partial", "unreachable"),
            default="partial",
            help="'partial' (default): exit 4 when a configured source failed while another answered; "
            "'unreachable': exit non-zero only when no source answered (3)",
        )
    return parser


def _split_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """The subcommand wherever it stands (kubectl users write flags first), skipping flag values."""
    takes_value = {
        option for action in build_parser(None)._actions if action.nargs != 0 for option in action.option_strings
    }
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in COMMANDS:
            return token, argv[:i] + argv[i + 1 :]
        if token == "--":
            break
        i += 2 if token in takes_value else 1
    return None, argv


def _check_file(path: str | None, flag: str) -> None:
    if path is not None and not os.path.isfile(path):
        raise ConfigError(f"{flag} {path}: no such file")


def _header(raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        raise ConfigError(f"--prometheus-header {raw!r}: expected 'Name: value'")
    return name.strip(), value.strip()


def config_settings(args: argparse.Namespace) -> Settings:
    """Defaults, then the config file (--config, else the default path)."""
    path = Path(args.config) if args.config else config_path()
    if args.config and not path.is_file():
        raise ConfigError(f"--config {args.config}: no such file")
    return load_config_file(path)


def _secret_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered for word in SECRET_WORDS)


def secret_flag_warnings(args: argparse.Namespace) -> list[str]:
    """One line per secret-looking value given as a flag: it stays readable in
    /proc/PID/cmdline (and shell history) for as long as k8stop runs."""
    where = "visible to other local users in /proc/PID/cmdline and in shell history"
    warnings = []
    for raw in args.prometheus_header:
        name, value = _header(raw)
        if _secret_header(name) and not value.startswith("@"):
            warnings.append(
                f"warning: --prometheus-header {name} puts a secret on the command line ({where}): "
                f"use '{name}: @FILE' or prometheus.headers in the config file"
            )
    url = args.prometheus_url
    if url and url != os.environ.get("K8STOP_PROMETHEUS_URL"):
        parts = urlsplit(url)
        if parts.password:
            warnings.append(
                f"warning: --prometheus-url carries a password ({where}): use --prometheus-basic-user "
                "with --prometheus-basic-password-file, or K8STOP_PROMETHEUS_URL"
            )
        if any(_secret_header(key) for key, _ in parse_qsl(parts.query)):
            warnings.append(
                f"warning: --prometheus-url carries a token in its query ({where}): use "
                "--prometheus-bearer-token-file, a 'NAME: @FILE' header, or K8STOP_PROMETHEUS_URL"
            )
    return warnings


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Defaults, then the config file, then flags: later wins."""
    settings = config_settings(args)
    auth = settings.prometheus
    auth = replace(
        auth,
        bearer_token_file=args.prometheus_bearer_token_file or auth.bearer_token_file,
        basic_user=args.prometheus_basic_user or auth.basic_user,
        basic_password_file=args.prometheus_basic_password_file or auth.basic_password_file,
        ca_file=args.prometheus_ca_file or auth.ca_file,
        headers=auth.headers + tuple(_header(h) for h in args.prometheus_header),
        insecure_skip_tls_verify=args.insecure_skip_tls_verify or auth.insecure_skip_tls_verify,
    )
    _check_file(auth.bearer_token_file, "--prometheus-bearer-token-file")
    _check_file(auth.basic_password_file, "--prometheus-basic-password-file")
    _check_file(auth.ca_file, "--prometheus-ca-file")
    for name, value in auth.headers:
        if value.startswith("@") and not os.path.isfile(value[1:]):
            raise ConfigError(f"--prometheus-header {name}: @{value[1:]}: no such file")
    if bool(auth.basic_user) != bool(auth.basic_password_file):
        raise ConfigError("basic auth needs both --prometheus-basic-user and --prometheus-basic-password-file")
    url = args.prometheus_url or settings.prometheus_url
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--prometheus-url {url!r}: expected http(s)://host[:port][/path]")
        try:
            _ = parts.port
        except ValueError:
            raise ConfigError(f"--prometheus-url {url!r}: the port is not a number") from None
    cluster_label = settings.cluster_label if args.cluster_label is None else args.cluster_label
    check_cluster_label(cluster_label, "--cluster-label")
    # A context paired with a cluster in the config brings it along, and the other way round.
    cluster = args.cluster or (settings.cluster_of(args.context) if args.context else None) or settings.cluster
    if cluster and not cluster_label:
        raise ConfigError(f"--cluster {cluster}: needs a cluster label (--cluster-label)")
    refresh = settings.refresh if args.refresh is None else args.refresh
    if not refresh >= 0.5:
        raise ConfigError(f"--refresh {refresh:g}: must be at least 0.5 seconds")
    if args.no_kube and args.no_prometheus:
        raise ConfigError("--no-kube and --no-prometheus together leave nothing to show")
    _check_file(args.kubeconfig, "--kubeconfig")
    for warning in secret_flag_warnings(args):
        print(f"k8stop: {warning}", file=sys.stderr)
    return replace(
        settings,
        prometheus_url=url.rstrip("/") if url else None,
        prometheus=auth,
        kubeconfig=args.kubeconfig or settings.kubeconfig,
        context=args.context or (settings.context_of(cluster) if cluster else None) or settings.context,
        namespace=args.namespace or settings.namespace,
        refresh=refresh,
        use_kube=settings.use_kube and not args.no_kube,
        use_prometheus=settings.use_prometheus and not args.no_prometheus,
        cluster_label=cluster_label,
        cluster=cluster,
    )


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    command, rest = _split_command(raw)
    try:
        args = build_parser(command).parse_args(rest)
        return _dispatch(command, args)
    except ConfigError as exc:
        print(f"k8stop: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _dispatch(command: str | None, args: argparse.Namespace) -> int:
    if command in ("demo", "replay"):
        # A recording has no connection flags, but it grades with the config's thresholds
        # exactly as `report --replay` does.
        from k8stop.tui.replay_command import run_replay

        return run_replay(args, config_settings(args), demo=command == "demo")
    settings = settings_from_args(args)
    if command == "report":
        from k8stop.tui.report_command import run_report

        return run_report(args, settings)
    from k8stop.tui.live_command import run_live

    return run_live(settings, record=args.record, diagnose=command == "diagnose")


if __name__ == "__main__":
    sys.exit(main())

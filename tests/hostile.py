"""Hostile text as a tenant writes it into a cluster (issue 20): terminal escapes, C1 controls,
bidi and zero-width characters, and Textual markup. Shared by the kube-API test server's
hostile cluster (kubeapi/hostile.py), the hostile Prometheus scenario and their tests.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from scenario import Container, Scenario, deployment_pods

OSC52 = "\x1b]52;c;aGFja2Vk\x07"  # rewrites the clipboard
TITLE = "\x1b]0;pwned\x07"  # sets the window title
CLEAR = "\x1b[2J"  # blanks the screen
DSR = "\x1b[6n"  # makes the terminal type a cursor report into the shell's input
CSI8 = "\x9b6n"  # the same through the 8-bit C1 CSI
RLO = "\u202e"  # right-to-left override: "evil\u202etxt.exe" reads as "evilexe.txt"
ZWSP = "\u200b"  # zero-width space: two names that look the same
ESCAPES = OSC52 + TITLE + CLEAR + DSR + CSI8 + RLO + ZWSP

# The same characters as the sanitiser shows them.
VISIBLE = {
    OSC52: "\\x1b]52;c;aGFja2Vk\\x07",
    TITLE: "\\x1b]0;pwned\\x07",
    CLEAR: "\\x1b[2J",
    DSR: "\\x1b[6n",
    CSI8: "\\x9b6n",
    RLO: "U+202E",
    ZWSP: "U+200B",
}

LINK = "[link=https://evil.example]x[/link]"
CLICK = "[@click=app.quit]quit[/]"
FILESYSTEM = "Filesystem [/var/lib/etcd] is 91% full"
PROD = "[prod]"

# Raw bytes that only the payloads above could have put on the terminal: k8stop's own
# output (Textual's cursor moves, colours, alternate screen) never holds these.
RAW_SEQUENCES: tuple[bytes, ...] = (
    b"\x1b]52;",
    b"\x1b]0;pwned",
    b"\x1b[6n",
    "\x9b".encode(),
    RLO.encode(),
    ZWSP.encode(),
)
# Textual ends its own OSC 22 (pointer shape) with BEL; any other BEL came from data.
_OWN_OSC = re.compile(rb"\x1b\]22;[\x20-\x7e]*\x07")


def visible(text: str) -> str:
    """`text` with every payload replaced by what the sanitiser shows for it."""
    for raw, shown in VISIBLE.items():
        text = text.replace(raw, shown)
    return text


def unsafe_characters(text: str) -> list[str]:
    """Control and format characters (Unicode Cc, Cf) other than newline and tab."""
    return [hex(ord(c)) for c in text if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf")]


def assert_inert(texts: Iterable[str]) -> None:
    for text in texts:
        assert not unsafe_characters(text), f"{unsafe_characters(text)} in {text!r}"


def assert_no_raw_sequences(output: bytes) -> None:
    found = [seq for seq in RAW_SEQUENCES if seq in output]
    assert not found, f"hostile sequences reached the terminal: {found}"
    assert b"\x07" not in _OWN_OSC.sub(b"", output), "a BEL from data reached the terminal"


# --- the Prometheus side -------------------------------------------------------------------

HOSTILE_NAMESPACE = f"tenant{OSC52}"
HOSTILE_DEPLOYMENT = "evil"
HOSTILE_CONTAINER = f'app"\\{TITLE}{LINK}'  # a quote and a backslash test the writer's escaping
HOSTILE_WAITING = f"CrashLoopBackOff{CSI8}"
HOSTILE_TERMINATED = f"OOMKilled{RLO}"
# Prometheus's own rule templating copies the pod's labels into the alert; the summary
# quotes a path in brackets, as node-exporter mixins do.
ALERT_SUMMARY = f"{FILESYSTEM}; {CLICK} {DSR}{CLEAR}"
_YAML_SUMMARY = ALERT_SUMMARY.replace("\x1b", "\\e")  # YAML's double-quoted escape for ESC
HOSTILE_RULES = f"""
groups:
  - name: hostile
    rules:
      - alert: KubePodCrashLooping
        expr: kube_pod_container_status_waiting_reason{{namespace=~"tenant.*"}} > 0
        labels: {{severity: warning, team: "{PROD} \\u202e"}}
        annotations:
          summary: "{_YAML_SUMMARY} {{{{ $labels.namespace }}}}"
"""


def hostile_scenario() -> Scenario:
    """The healthy cluster plus a tenant's crash-looping pod whose every label is hostile."""
    base = Scenario.healthy()
    container = Container(
        HOSTILE_CONTAINER,
        restarts_per_hour=30.0,
        restarts_base=10.0,
        waiting_reason=HOSTILE_WAITING,
        last_terminated_reason=HOSTILE_TERMINATED,
    )
    pods = deployment_pods(HOSTILE_NAMESPACE, HOSTILE_DEPLOYMENT, 1, base.nodes, container)
    return replace(base, name="hostile", pods=base.pods + pods)

"""Label and field selectors with the API server's syntax and its per-kind field support."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The fields each kind accepts in fieldSelector (a subset of the real conversion funcs);
# anything else is a 400, as the real server answers.
SELECTABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": (
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
    ),
    "nodes": ("metadata.name", "spec.unschedulable"),
    "namespaces": ("metadata.name", "status.phase"),
    "services": ("metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"),
    "configmaps": ("metadata.name", "metadata.namespace"),
    "events": (
        "metadata.name",
        "metadata.namespace",
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
}


class SelectorError(ValueError):
    """A selector the real server would reject with 400 BadRequest."""


@dataclass(frozen=True, slots=True)
class LabelRequirement:
    key: str
    op: str  # = != in notin exists !exists
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values  # != and notin


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    path: str
    equal: bool
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        return (fields.get(self.path, "") == self.value) == self.equal


_SET_RE = re.compile(r"^\s*(!?)\s*([\w./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses (`a in (x,y),b=c`)."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def parse_labels(text: str) -> tuple[LabelRequirement, ...]:
    reqs: list[LabelRequirement] = []
    for part in _split_top_level(text):
        for op, norm in (("!=", "!="), ("==", "="), ("=", "=")):
            if op in part and not re.search(r"\s(in|notin)\s*\(", part):
                key, _, value = part.partition(op)
                reqs.append(LabelRequirement(key.strip(), norm, frozenset([value.strip()])))
                break
        else:
            m = _SET_RE.match(part)
            if not m:
                raise SelectorError(f"unable to parse requirement: {part!r}")
            neg, key, setop, values = m.groups()
            if setop:
                reqs.append(LabelRequirement(key, setop, frozenset(v.strip() for v in values.split(",") if v.strip())))
            else:
                reqs.append(LabelRequirement(key, "!exists" if neg else "exists", frozenset()))
    return tuple(reqs)


def parse_fields(text: str, kind: str) -> tuple[FieldRequirement, ...]:
    reqs: list[FieldRequirement] = []
    allowed = SELECTABLE_FIELDS.get(kind, ("metadata.name", "metadata.namespace"))
    for part in _split_top_level(text):
        for op, equal in (("!=", False), ("==", True), ("=", True)):
            if op in part:
                path, _, value = part.partition(op)
                path = path.strip()
                if path not in allowed:
                    raise SelectorError(f"field label not supported: {path}")
                reqs.append(FieldRequirement(path, equal, value.strip()))
                break
        else:
            raise SelectorError(f"invalid selector: '{part}'; can't understand '{part}'")
    return tuple(reqs)


@dataclass(frozen=True, slots=True)
class Selector:
    namespace: str | None = None
    labels: tuple[LabelRequirement, ...] = ()
    fields: tuple[FieldRequirement, ...] = ()

    def matches(self, fields: Mapping[str, str], labels: Mapping[str, str]) -> bool:
        if self.namespace is not None and fields.get("metadata.namespace") != self.namespace:
            return False
        return all(r.matches(labels) for r in self.labels) and all(r.matches(fields) for r in self.fields)


def _dig(obj: Mapping[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return ""
        cur = cur.get(part)
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, Mapping) and path == "source":
        return str(cur.get("component", ""))
    return "" if cur is None else str(cur)


def fields_of(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """The selectable field values of an explicit object."""
    return {path: _dig(obj, path) for path in SELECTABLE_FIELDS.get(kind, ("metadata.name", "metadata.namespace"))}

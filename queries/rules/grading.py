"""Grading a measured Value against a target and a hard limit, shared by KPIs and findings.

The rule everywhere: a value at or above the *target* (the seed guide's figure or an SLO)
is a warning; at or above the *limit* (the upstream mixin alert threshold or SLO) it fails.
An AT_LEAST value is graded by its bound, because the true value can only be higher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypedDict, Unpack

from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.values import ABSENT, NO_TRAFFIC, Kind, Value

Formatter = Callable[[Value], str]


@dataclass(frozen=True, slots=True)
class Bound:
    """Lower-is-better thresholds with their citation: warn at `target`, fail at `limit`."""

    target: float
    limit: float | None
    cite: str

    @classmethod
    def between(cls, warn_fail: tuple[float, float], cite: str) -> Bound:
        """From a (warn, fail) threshold pair of the settings."""
        warn, fail = warn_fail
        return cls(warn, fail, cite)

    def grade(self, value: Value) -> Level:
        return grade(value, self.target, self.limit)

    def describe(self, fmt: Formatter, fail_word: str = "critical") -> str:
        """'warn at 10 ms, critical at 500 ms (cite)', in the value's unit."""
        text = f"warn at {fmt(Value.of(self.target))}"
        if self.limit is not None:
            text += f", {fail_word} at {fmt(Value.of(self.limit))}"
        return f"{text} ({self.cite})" if self.cite else text


def graded_finding(
    value: Value,
    bound: Bound,
    fmt: Formatter,
    *,
    rule: str,
    component: Component,
    subject: str,
    key: str = "",
    title: str | Callable[[Level], str],
    query: str,
    recommendation: str,
    evidence_detail: str = "",
    more_evidence: Iterable[Evidence] = (),
    labels: tuple[tuple[str, str], ...] = (),
    inside_limit: Level = Level.WARNING,
    ceiling: Level = Level.CRITICAL,
) -> Finding | None:
    """The finding for `value` graded against `bound`, or None when it is within target.

    Past the limit the finding is critical; between target and limit it is `inside_limit`
    (a warning, or info where the target is a guide's wish and the limit the real SLO), and
    never above `ceiling` (e.g. info when too little traffic makes the value mean little).
    The first evidence is the measured value with the bound it was graded against. The id is
    "<rule>:<key>", the key defaulting to the subject.
    """
    level = bound.grade(value)
    if level < Level.WARN:
        return None
    severity = min(Level.CRITICAL if level is Level.FAIL else inside_limit, ceiling)
    # How far past the bound that set the severity: ranks findings of one severity.
    passed = bound.limit if level is Level.FAIL and bound.limit is not None else bound.target
    detail = bound.describe(fmt)
    return Finding(
        id=f"{rule}:{key or subject}",
        component=component,
        subject=subject,
        severity=severity,
        title=title(level) if callable(title) else title,
        evidence=(
            Evidence(query, value.or_none(), f"{evidence_detail}; {detail}" if evidence_detail else detail),
            *more_evidence,
        ),
        recommendation=recommendation,
        magnitude=value.number / passed if passed > 0 else 1.0,
        labels=labels,
    )


class GradedExtras(TypedDict, total=False):
    """graded_finding's optional arguments, passed through by Rule.graded."""

    key: str
    evidence_detail: str
    more_evidence: Iterable[Evidence]
    labels: tuple[tuple[str, str], ...]
    inside_limit: Level
    ceiling: Level


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's fixed parts, one row of its module's table: the id its findings carry
    ("<id>:<key>"), the component it blames and its advice. The call sites then state only
    what differs per subject."""

    id: str
    component: Component
    advice: str = ""

    def graded(
        self,
        value: Value,
        bound: Bound,
        fmt: Formatter,
        *,
        subject: str,
        title: str | Callable[[Level], str],
        query: str,
        advice: str = "",
        **extras: Unpack[GradedExtras],
    ) -> Finding | None:
        """graded_finding for this rule; `advice` replaces the rule's own where it depends on the subject."""
        return graded_finding(
            value,
            bound,
            fmt,
            rule=self.id,
            component=self.component,
            subject=subject,
            title=title,
            query=query,
            recommendation=advice or self.advice,
            **extras,
        )

    def flag(
        self,
        subject: str,
        severity: Level,
        title: str,
        evidence: Iterable[Evidence],
        *,
        key: str = "",
        magnitude: float = 1.0,
        labels: tuple[tuple[str, str], ...] = (),
    ) -> Finding:
        """A finding of a fixed severity: a condition that is either there or not (no bound to grade)."""
        return Finding(
            id=f"{self.id}:{key or subject}",
            component=self.component,
            subject=subject,
            severity=severity,
            title=title,
            evidence=tuple(evidence),
            recommendation=self.advice,
            magnitude=magnitude,
            labels=labels,
        )


def present(findings: Iterable[Finding | None]) -> list[Finding]:
    """The findings a rule raised, in order: graded_finding gives None for a value within target."""
    return [f for f in findings if f is not None]


def grade(value: Value, target: float, limit: float | None = None) -> Level:
    if limit is not None and value.at_least(limit):
        return Level.FAIL
    if value.at_least(target):
        return Level.WARN
    if value.kind is Kind.NUMBER:
        return Level.OK
    # AT_LEAST under the target: the true value is anywhere above the bound, so not "ok".
    return Level.UNKNOWN


def worst(items: Iterable[tuple[str, Value]]) -> tuple[str | None, Value]:
    """The item with the highest known value; if none is known, why (no traffic / absent)."""
    best: tuple[str | None, Value] = (None, ABSENT)
    saw_no_traffic = False
    for label, value in items:
        if value.known:
            if not best[1].known or value.number > best[1].number:
                best = (label, value)
        elif value.kind is Kind.NO_TRAFFIC:
            saw_no_traffic = True
    if best[1].known:
        return best
    return (None, NO_TRAFFIC if saw_no_traffic else ABSENT)


def unknown_reason(value: Value) -> str:
    if value.kind is Kind.NO_TRAFFIC:
        return "no traffic: the histogram had no observations in the window"
    if value.kind is Kind.ABSENT:
        return "metric not exposed (no such series)"
    if value.kind is Kind.AT_LEAST:
        return "beyond the histogram's top bucket: only a lower bound is known"
    if value.kind is Kind.INFINITE and value.number < 0:
        return "invalid value (-Inf) from the server"
    return ""


def ratio(numerator: Value, denominator: Value) -> Value:
    """numerator/denominator when both are plain numbers and the denominator is positive."""
    if numerator.kind is Kind.NUMBER and denominator.kind is Kind.NUMBER and denominator.number > 0:
        return Value.of(numerator.number / denominator.number)
    return ABSENT

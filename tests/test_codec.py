"""queries/codec.py: every facts type round-trips exactly, built generically from its type hints."""

from __future__ import annotations

import dataclasses
import itertools
import math
import types
import typing
from enum import Enum

import orjson
import pytest
from k8stop.queries.model import facts as facts_module
from k8stop.queries.model.codec import CODEC, CodecError
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate
from k8stop.queries.model.values import ABSENT, NO_TRAFFIC, Kind, Value

_counter = itertools.count(1)
# Every Value kind, including the NaN and infinite numbers JSON cannot hold natively.
_VALUES = (
    Value(Kind.NUMBER, 0.123456789012345),
    NO_TRAFFIC,
    ABSENT,
    Value(Kind.AT_LEAST, 60.0),
    Value(Kind.INFINITE, math.inf),
    Value(Kind.INFINITE, -math.inf),
    Value(Kind.NUMBER, -0.0),
)


def sample(hint: typing.Any, variant: int) -> typing.Any:
    """A value of type `hint`; `variant` picks None / empty for optionals and tuples."""
    origin = typing.get_origin(hint)
    if hint is Value:
        return _VALUES[next(_counter) % len(_VALUES)]
    if hint is float:
        return next(_counter) / 7.0
    if hint is bool:
        return next(_counter) % 2 == 0
    if hint is int:
        return next(_counter)
    if hint is str:
        return f"s{next(_counter)}-ü"
    if isinstance(hint, type) and issubclass(hint, Enum):
        return list(hint)[next(_counter) % len(hint)]
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if variant == 1 else sample(options[0], variant)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return () if variant == 1 else tuple(sample(args[0], variant) for _ in range(2))
        return tuple(sample(a, variant) for a in args)
    if dataclasses.is_dataclass(hint):
        return build(hint, variant)
    raise AssertionError(f"no sample for {hint!r}")


def build(cls: type, variant: int = 0) -> typing.Any:
    hints = typing.get_type_hints(cls, vars(facts_module) | {"Value": Value})
    return cls(**{f.name: sample(hints[f.name], variant) for f in dataclasses.fields(cls)})


FACT_TYPES = [
    obj
    for obj in vars(facts_module).values()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == facts_module.__name__
]


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("cls", FACT_TYPES, ids=lambda c: c.__name__)
def test_every_facts_type_round_trips_exactly(cls: type, variant: int) -> None:
    original = build(cls, variant)
    raw = CODEC.dumps(original)
    decoded = CODEC.loads(raw)
    assert type(decoded) is cls
    assert decoded == original
    assert CODEC.dumps(decoded) == raw


def test_facts_list_is_the_whole_module() -> None:
    # A new facts class must be covered by the generic round-trip above without edits here.
    assert {"ApiserverFacts", "EtcdFacts", "NodesFacts", "RestartsFacts", "KubeSummary"} <= {
        c.__name__ for c in FACT_TYPES
    }


def test_feed_update_with_status_and_nonfinite_floats() -> None:
    update = FeedUpdate(
        "etcd",
        build(facts_module.EtcdFacts),
        FeedStatus(FeedState.STALE, "timed out", 10.5, 9.0, ("w1",)),
        1_700_000_000.25,
    )
    decoded = CODEC.loads(CODEC.dumps(update))
    assert decoded == update
    assert isinstance(decoded.status.state, FeedState)
    nan = CODEC.loads(CODEC.dumps(NO_TRAFFIC))
    assert nan.kind is Kind.NO_TRAFFIC and math.isnan(nan.number)
    assert CODEC.loads(CODEC.dumps(Value(Kind.INFINITE, -math.inf))).number == -math.inf


def test_no_facts_and_plain_scalars() -> None:
    update = FeedUpdate("alerts", None, FeedStatus(FeedState.WAITING), 5.0)
    assert CODEC.loads(CODEC.dumps(update)) == update


@pytest.mark.parametrize(
    "bad",
    [
        {"@": "NoSuchFacts"},
        {"@e": "Kind", "v": "bogus"},
        {"@f": "big"},
        {"@": "NodeUsage", "node": "n1"},
        {"x": 1},
        b"{not json",
    ],
)
def test_unknown_records_raise_codec_error(bad: object) -> None:
    with pytest.raises(CodecError):
        CODEC.loads(bad if isinstance(bad, bytes) else orjson.dumps(bad))


def test_unregistered_types_are_refused() -> None:
    with pytest.raises(CodecError, match="cannot record"):
        CODEC.encode({"a": 1})
    with pytest.raises(CodecError, match="cannot record"):
        CODEC.encode([1, 2])

"""Exact JSON-able encoding of feed updates: any registered frozen dataclass, enum and Value.

Generic on purpose: a field added to a facts class is recorded without touching this file.
Encoded shapes (JSON has no tuples, enums or NaN, and recordings must round-trip exactly):
  dataclass      {"@": "ClassName", field: encoded, ...}   fields at their plain default left out
  enum member    {"@e": "EnumName", "v": value}
  tuple          [encoded, ...]              (facts hold tuples only, never lists)
  NaN / ±inf     {"@f": "nan" | "inf" | "-inf"}
  None, bool, int, str, finite float as themselves.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from enum import Enum
from types import ModuleType
from typing import Any

import orjson
from k8stop.queries.model import audit, facts, request_path, status, values
from k8stop.queries.model.sanitize import clean

Json = Any
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class CodecError(ValueError):
    """Data that is not a known facts type, or a record that does not decode into one."""


class Codec:
    """Encoder/decoder over the dataclasses and enums defined in `modules`."""

    def __init__(self, modules: Iterable[ModuleType] = (facts, values, status, audit, request_path)) -> None:
        self._classes: dict[str, type] = {}
        self._enums: dict[str, type[Enum]] = {}
        for module in modules:
            for obj in vars(module).values():
                if not isinstance(obj, type) or obj.__module__ != module.__name__:
                    continue
                if dataclasses.is_dataclass(obj):
                    self._register(self._classes, obj)
                elif issubclass(obj, Enum):
                    self._register(self._enums, obj)

    @staticmethod
    def _register(table: dict[str, Any], cls: type) -> None:
        known = table.get(cls.__name__)
        if known is not None and known is not cls:
            raise CodecError(f"two types named {cls.__name__}: {known.__module__} and {cls.__module__}")
        table[cls.__name__] = cls

    # --- encode ------------------------------------------------------------------------------

    def encode(self, obj: Any) -> Json:
        if obj is None or (isinstance(obj, (bool, int, str)) and not isinstance(obj, Enum)):
            return obj
        if isinstance(obj, float):
            if math.isfinite(obj):
                return obj
            return {"@f": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, Enum):
            name = type(obj).__name__
            if self._enums.get(name) is not type(obj):
                raise CodecError(f"enum {type(obj).__qualname__} is not registered")
            return {"@e": name, "v": obj.value}
        if isinstance(obj, tuple):
            return [self.encode(item) for item in obj]
        cls = type(obj)
        if dataclasses.is_dataclass(obj) and self._classes.get(cls.__name__) is cls:
            out: dict[str, Json] = {"@": cls.__name__}
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                # A field at its plain default is left out (decoding restores it): records stay
                # small, and a field added later costs nothing where it is not used.
                if f.default is not dataclasses.MISSING and _same(value, f.default):
                    continue
                out[f.name] = self.encode(value)
            return out
        raise CodecError(f"cannot record a {cls.__module__}.{cls.__qualname__}")

    def dumps(self, obj: Any) -> bytes:
        return orjson.dumps(self.encode(obj))

    # --- decode ------------------------------------------------------------------------------

    def decode(self, data: Json) -> Any:
        if isinstance(data, str):
            return clean(data)  # a recording is a file anyone may hand over: its text is untrusted
        if data is None or isinstance(data, (bool, int, float)):
            return data
        if isinstance(data, list):
            return tuple(self.decode(item) for item in data)
        if not isinstance(data, dict):
            raise CodecError(f"unexpected JSON {type(data).__name__}")
        if "@f" in data:
            try:
                return _NONFINITE[data["@f"]]
            except (KeyError, TypeError):
                raise CodecError(f"bad float marker {data!r}") from None
        if "@e" in data:
            enum = self._enums.get(data["@e"])
            if enum is None:
                raise CodecError(f"unknown enum {data['@e']!r}")
            try:
                return enum(data.get("v"))
            except ValueError:
                raise CodecError(f"{data.get('v')!r} is not a {enum.__name__}") from None
        name = data.get("@")
        cls = self._classes.get(name) if isinstance(name, str) else None
        if cls is None:
            raise CodecError(f"unknown record type {name!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {key: self.decode(value) for key, value in data.items() if key in names}
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise CodecError(f"{name}: {exc}") from None

    def loads(self, raw: bytes | str) -> Any:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise CodecError(f"not JSON: {exc}") from None
        return self.decode(data)


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default


CODEC = Codec()

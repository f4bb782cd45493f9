"""One resource kind's objects: a lazy base (rendered from an index) plus explicit overrides.

Every object has a stable position: base objects sit at their index, objects added later
get the next free position. A position never moves, so a continue token can be a position,
and the server keeps only what was mutated, however large the generated base is.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .objects import Obj
from .selectors import Selector, fields_of

Key = tuple[str, str]  # (namespace or "", name)


@dataclass(frozen=True, slots=True)
class LazySource:
    """Deterministic objects 0..count-1; `selectable` must be cheap (no full render)."""

    count: int
    key: Callable[[int], Key]
    index_of: Callable[[str, str], int | None]
    selectable: Callable[[int], tuple[Mapping[str, str], Mapping[str, str]]]  # fields, labels
    render: Callable[[int], Obj]


_DELETED = None
_MISSING: Obj = {}  # identity sentinel: "no override at this position"


class Store:
    def __init__(self, kind: str, namespaced: bool, source: LazySource | None = None) -> None:
        self.kind = kind
        self.namespaced = namespaced
        self.source = source
        self._base_count = source.count if source else 0
        self._objects: dict[int, Obj | None] = {}  # position -> override, None = deleted
        self._positions: dict[Key, int] = {}  # only for objects beyond the base
        self._extra: list[int] = []  # ascending positions beyond the base

    def key_of(self, obj: Obj) -> Key:
        meta = obj["metadata"]
        return (meta.get("namespace", "") if self.namespaced else "", meta["name"])

    def position(self, namespace: str, name: str) -> int | None:
        key = (namespace if self.namespaced else "", name)
        pos = self._positions.get(key)
        if pos is None and self.source is not None:
            pos = self.source.index_of(*key)
        return pos

    def _at(self, pos: int) -> Obj | None:
        if pos in self._objects:
            return self._objects[pos]
        if pos < self._base_count and self.source is not None:
            return self.source.render(pos)
        return None

    def get(self, namespace: str, name: str) -> Obj | None:
        pos = self.position(namespace, name)
        return None if pos is None else self._at(pos)

    def put(self, obj: Obj) -> bool:
        """Store `obj`; True when it replaced a live object (MODIFIED), False when new (ADDED)."""
        key = self.key_of(obj)
        pos = self.position(*key)
        existed = pos is not None and self._at(pos) is not None
        if pos is None:
            pos = max(self._base_count, self._extra[-1] + 1 if self._extra else 0)
            self._positions[key] = pos
            self._extra.append(pos)
        self._objects[pos] = obj
        return existed

    def remove(self, namespace: str, name: str) -> Obj | None:
        pos = self.position(namespace, name)
        if pos is None:
            return None
        old = self._at(pos)
        if old is not None:
            self._objects[pos] = _DELETED
        return old

    def end(self) -> int:
        return max(self._base_count, self._extra[-1] + 1 if self._extra else 0)

    def scan(self, selector: Selector, start: int = 0) -> Iterator[tuple[int, Obj]]:
        """Matching live objects at positions >= start, in position order."""
        for pos in range(start, self._base_count):
            override = self._objects.get(pos, _MISSING)
            if override is None:
                continue
            if override is not _MISSING:
                if selector.matches(fields_of(self.kind, override), override["metadata"].get("labels") or {}):
                    yield pos, override
                continue
            assert self.source is not None
            fields, labels = self.source.selectable(pos)
            if selector.matches(fields, labels):
                yield pos, self.source.render(pos)
        # Extras are append-only, so indexing (not iterating) tolerates concurrent adds.
        i = bisect.bisect_left(self._extra, start)
        while i < len(self._extra):
            pos = self._extra[i]
            i += 1
            obj = self._objects.get(pos)
            if obj is not None and selector.matches(fields_of(self.kind, obj), obj["metadata"].get("labels") or {}):
                yield pos, obj

    def overrides(self) -> int:
        return len(self._objects)

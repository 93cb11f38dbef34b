"""Fleet background as Arrow columns, read off the same line templates as the fast NDJSON writer.

A source's template (``generators.sources.template``, derived from its renderer) is a
JSON document with slots. Parsed once with each slot replaced by a marker, it becomes a
tree: constants, a part's block for a pooled object (a whole value, or members spread
into an object), and per-row values. A chunk's rows are then built column by column:
each part's blocks are converted to Arrow once per pool, in the Parquet schema's types,
and gathered with ``take``; a row value is a numpy column; a constant is one value
repeated; a field the source does not write is null, and so is an object it does not
write, as Arrow's JSON reader leaves them. No document is serialized or parsed, which is
what the JSON route spent its time on; the content is the same (``tests/test_parquet.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from generators.fastpath import Pools, Rows, row_number, row_text
from generators.sources.template import PartSlot, Template, TemplateError

__all__ = ["Block", "Const", "Gathered", "Group", "Obj", "Row", "TableBuilder", "document_tree"]


@dataclass(frozen=True)
class Const:
    """A value every background document of the source holds."""

    value: Any


@dataclass(frozen=True)
class Row:
    """A per-launch value (a key of ``template.ROW_VALUES``), written as a number or as text."""

    name: str
    number: bool


@dataclass(frozen=True)
class Block:
    """A part's whole block for the row's pooled object."""

    slot: PartSlot


@dataclass(frozen=True)
class Obj:
    """An object: its own keys, and the parts whose members are spread into it."""

    fields: dict[str, Node]
    spreads: tuple[PartSlot, ...]


Node: TypeAlias = Const | Row | Block | Obj

# Marker characters: control characters no renderer writes, so a marker cannot be a value.
_BLOCK, _TEXT, _NUMBER = "\x01", "\x02", "\x03"


def document_tree(template: Template) -> Obj:
    """The document a template describes, as a tree of constants, blocks and row values."""
    slots: list[PartSlot] = []
    text: list[str] = []
    for piece in template.pieces:
        if isinstance(piece, str):
            text.append(piece)
        elif isinstance(piece, PartSlot):
            marker = orjson.dumps(f"{_BLOCK}{len(slots)}").decode()
            slots.append(piece)
            text.append(f"{marker}:null" if piece.members else marker)
        else:
            # A value written as text has its quotes in the template's constant text.
            quoted = bool(text) and text[-1].endswith('"')
            marker = orjson.dumps(f"{_TEXT if quoted else _NUMBER}{piece.name}").decode()
            text.append(marker[1:-1] if quoted else marker)
    tree = _node(orjson.loads("".join(text)), slots)
    if not isinstance(tree, Obj):
        raise TemplateError("a template describes an object")
    return tree


def _node(value: Any, slots: list[PartSlot]) -> Node:
    if isinstance(value, str) and value[:1] in (_BLOCK, _TEXT, _NUMBER):
        if value[0] == _BLOCK:
            return Block(slots[int(value[1:])])
        return Row(value[1:], number=value[0] == _NUMBER)
    if isinstance(value, dict):
        fields: dict[str, Node] = {}
        spreads: list[PartSlot] = []
        for key, item in value.items():
            if key.startswith(_BLOCK):
                spreads.append(slots[int(key[1:])])
            else:
                fields[key] = _node(item, slots)
        return Obj(fields, tuple(spreads))
    if isinstance(value, list) and _has_marker(value):
        raise TemplateError("a slot inside a list: the columnar writer cannot place it")
    return Const(value)


def _has_marker(value: Any) -> bool:
    if isinstance(value, str):
        return value[:1] in (_BLOCK, _TEXT, _NUMBER)
    if isinstance(value, list):
        return any(_has_marker(v) for v in value)
    if isinstance(value, dict):
        return any(_has_marker(v) or _has_marker(k) for k, v in value.items())
    return False


@dataclass(frozen=True)
class Gathered:
    """Values already in Arrow, and for each row of a group the one it takes (pooled blocks, a row column)."""

    values: pa.Array
    index: np.ndarray


@dataclass(frozen=True)
class Group:
    """Rows of one chunk written alike: one source's background, or the scenario events read as JSON."""

    source: str
    positions: np.ndarray  # the rows' places in the chunk
    tree: Obj | Gathered
    rows: Rows | None = None


Value: TypeAlias = Node | Gathered | None  # what a group holds at one place of the schema (None: nothing)


class TableBuilder:
    """A chunk's rows as a table of ``schema``, column by column, every source's rows at once.

    Each leaf column is one ``take`` in the chunk's order from the values its groups hold
    there (pooled blocks converted once, constants, row columns): no source's rows are
    built apart and then reordered, so each value is copied once.
    """

    def __init__(self, schema: pa.Schema, pools: Pools) -> None:
        self.schema = schema
        self.pools = pools
        self._blocks: dict[tuple[PartSlot, pa.DataType], tuple[int, pa.Array, frozenset[str]]] = {}
        self._constants: dict[tuple[str, pa.DataType], pa.Array] = {}

    def table(self, length: int, groups: Sequence[Group]) -> pa.Table:
        """The chunk of ``length`` rows that ``groups`` make up between them."""
        build = _Build(self, length, groups)
        columns, _ = build.children([g.tree for g in groups], pa.struct(list(self.schema)), "")
        return pa.Table.from_arrays(columns, schema=self.schema)

    def pool(self, slot: PartSlot, type: pa.DataType, where: str) -> tuple[pa.Array, frozenset[str]]:
        """The part's block for every pooled object of its role in ``type`` (again if the pool grew), and
        the keys its blocks hold."""
        items = self.pools.items(slot.role)
        cached = self._blocks.get((slot, type))
        if cached is not None and cached[0] == len(items):
            return cached[1], cached[2]
        # Through JSON, so that each value is what the JSON route read (tuples as lists).
        values = [orjson.loads(orjson.dumps(slot.part.get(item))) for item in items]
        for value in values:
            _check(value, type, where)
        array = pa.array(values, type=type)
        keys = frozenset(k for value in values if isinstance(value, dict) for k in value)
        self._blocks[(slot, type)] = (len(items), array, keys)
        return array, keys

    def constant(self, value: Any, type: pa.DataType, where: str) -> pa.Array:
        key = (orjson.dumps(value).decode(), type)
        found = self._constants.get(key)
        if found is None:
            _check(value, type, where)
            found = self._constants[key] = pa.array([value], type=type)
        return found


class _Build:
    """One chunk being built."""

    def __init__(self, builder: TableBuilder, length: int, groups: Sequence[Group]) -> None:
        self.builder = builder
        self.length = length
        self.groups = groups
        self._indices: dict[tuple[int, str], np.ndarray] = {}
        self._texts: dict[tuple[int, str], pa.Array] = {}

    def struct(self, values: list[Value], type: pa.DataType, where: str) -> pa.Array:
        """The struct column at ``where`` from what each group holds there; null where it holds nothing."""
        if all(v is None for v in values):
            return pa.nulls(self.length, type)
        children, valid = self.children(values, type, where)
        present = np.zeros(self.length, dtype=bool)
        for group, value in zip(self.groups, valid, strict=True):
            if isinstance(value, Gathered):
                present[group.positions] = value.values.to_numpy(zero_copy_only=False)[value.index]
            elif value is not None:
                present[group.positions] = True
        mask = None if present.all() else pa.array(~present)
        return pa.StructArray.from_arrays(children, fields=list(type), mask=mask)

    def children(
        self, values: list[Value], type: pa.DataType, where: str
    ) -> tuple[list[pa.Array], list[Value]]:
        """The child columns of the struct at ``where``, and what says where the struct itself is there."""
        children: list[list[Value]] = [[] for _ in type]
        valid: list[Value] = []
        for g, held in enumerate(values):
            at = self._at(g, where)
            # A constant object is an object of constants.
            value = (
                _node(held.value, []) if isinstance(held, Const) and isinstance(held.value, dict) else held
            )
            if value is None or (isinstance(value, Const) and value.value is None):
                valid.append(None)
                for child in children:
                    child.append(None)
            elif isinstance(value, Obj):
                valid.append(Const(True))
                self._unknown(value, type, at)
                for child, found in zip(children, self._members(g, value, type, at), strict=True):
                    child.append(found)
            elif isinstance(value, Block | Gathered):
                gathered = self._gathered(g, value, type, at)
                valid.append(Gathered(gathered.values.is_valid(), gathered.index))
                for i, child in enumerate(children):
                    child.append(Gathered(gathered.values.field(i), gathered.index))
            else:
                raise TemplateError(f"{at}: {value} where the Parquet schema has {type}")
        arrays = [
            self.column(child, f.type, f"{where}.{f.name}".lstrip("."))
            for child, f in zip(children, type, strict=True)
        ]
        return arrays, valid

    def column(self, values: list[Value], type: pa.DataType, where: str) -> pa.Array:
        """The column at ``where`` from what each group holds there: one ``take`` in the chunk's order."""
        if pa.types.is_struct(type):
            return self.struct(values, type, where)
        if all(v is None for v in values):
            return pa.nulls(self.length, type)
        pools: list[pa.Array] = []
        index = np.zeros(self.length, dtype=np.int64)
        offset = 0
        nulls: list[np.ndarray] = []
        for g, value in enumerate(values):
            positions = self.groups[g].positions
            if value is None:
                nulls.append(positions)
                continue
            gathered = self._gathered(g, value, type, self._at(g, where))
            pools.append(gathered.values)
            index[positions] = offset + gathered.index
            offset += len(gathered.values)
        if nulls:
            pools.append(pa.nulls(1, type))
            index[np.concatenate(nulls)] = offset
        return pa.concat_arrays(pools).take(pa.array(index))

    def _gathered(self, g: int, value: Node | Gathered, type: pa.DataType, at: str) -> Gathered:
        """What group ``g`` holds at a place, as Arrow values and an index per row of the group."""
        if isinstance(value, Gathered):
            return value
        n = len(self.groups[g].positions)
        if isinstance(value, Const):
            return Gathered(self.builder.constant(value.value, type, at), np.zeros(n, dtype=np.int64))
        if isinstance(value, Block):
            pool, _ = self.builder.pool(value.slot, type, at)
            return Gathered(pool, self._index(g, value.slot.role))
        if isinstance(value, Row):
            return Gathered(self._row(g, value, type, at), np.arange(n))
        raise TemplateError(f"{at}: an object where the Parquet schema has {type}")

    def _members(self, g: int, node: Obj, type: pa.DataType, at: str) -> list[Value]:
        """Each field of ``type`` in the object ``node``: its own key, or a spread part's member."""
        spreads = [(slot, *self.builder.pool(slot, type, at)) for slot in node.spreads]
        found: list[Value] = []
        for i, f in enumerate(type):
            owners = [(slot, pool) for slot, pool, keys in spreads if f.name in keys]
            if len(owners) + (f.name in node.fields) > 1:
                raise TemplateError(f"{at}.{f.name}: written by more than one part")
            if owners:
                slot, pool = owners[0]
                found.append(Gathered(pool.field(i), self._index(g, slot.role)))
            else:
                found.append(node.fields.get(f.name))
        return found

    def _index(self, g: int, role: str) -> np.ndarray:
        key = (g, role)
        if key not in self._indices:
            rows = self.groups[g].rows
            assert rows is not None  # a group that holds blocks is background rows
            self._indices[key] = rows.index(role)
        return self._indices[key]

    def _row(self, g: int, node: Row, type: pa.DataType, at: str) -> pa.Array:
        rows = self.groups[g].rows
        assert rows is not None
        if node.number:
            values = row_number(rows, node.name)
            if values is None or not pa.types.is_integer(type):
                raise TemplateError(f"{at}: the number {node.name!r} where the Parquet schema has {type}")
            return pa.array(values, type=type)
        if not pa.types.is_string(type):
            raise TemplateError(f"{at}: the text {node.name!r} where the Parquet schema has {type}")
        key = (g, node.name)
        if key not in self._texts:
            pieces = row_text(rows, self.builder.pools.fleet.hosts, node.name)
            self._texts[key] = pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, "")
        return self._texts[key]

    def _unknown(self, node: Obj, type: pa.DataType, at: str) -> None:
        """Refuse a key the schema lacks, as Arrow's JSON reader does (``unexpected_field_behavior``)."""
        extra = sorted(set(node.fields) - {f.name for f in type})
        if extra:
            raise TemplateError(f"{at}.{extra[0]}: not in the Parquet schema".replace(": .", ": "))

    def _at(self, g: int, where: str) -> str:
        return f"{self.groups[g].source}: {where}"


def _check(value: Any, type: pa.DataType, where: str) -> None:
    """Refuse a key the schema lacks anywhere in ``value``, which ``pa.array`` would drop silently."""
    if isinstance(value, dict):
        if not pa.types.is_struct(type):
            raise TemplateError(f"{where}: an object where the Parquet schema has {type}")
        names = {f.name: f.type for f in type}
        for key, item in value.items():
            if key not in names:
                raise TemplateError(f"{where}.{key}: not in the Parquet schema")
            _check(item, names[key], f"{where}.{key}")
    elif isinstance(value, list) and (pa.types.is_list(type) or pa.types.is_large_list(type)):
        for item in value:
            _check(item, type.value_type, where)

"""A source's line template, derived from its renderer: constant text and slots.

A background line differs from its neighbours only in blocks taken from pooled objects
and in a few per-launch numbers. Rendering a prototype launch whose pooled objects are
:class:`~generators.sources.common.Placeholder` s (each part returns a marker for them)
and whose numbers are unusual values, then splitting the JSON at the markers and at
those values, gives the line as constant text and slots. The fast writer
(``generators.fastpath``) fills the slots column by column; nothing of the document is
written twice.

Two prototypes with different values are rendered, and their templates must agree: a
renderer that reads a pooled object outside a part, or a launch value no slot knows,
makes them differ, and the derivation fails instead of writing wrong lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from generators.model import Host, Image, Launch, Parent, User
from generators.sources.common import (
    Part,
    Placeholder,
    defend_entity,
    defend_parent_entity,
    entity_guid,
    iso,
    iso_ingested,
)

__all__ = ["ROLES", "ROW_VALUES", "PartSlot", "RowSlot", "Template", "TemplateError", "derive"]

# The pooled objects a part may stand on, by the launch attribute they come from.
ROLES = ("command", "host", "user", "image", "parent", "parent.image")

# The per-launch values a line holds, each as the renderers compute it.
ROW_VALUES: dict[str, Callable[[Launch], str | int]] = {
    **{f"timestamp:{d}": lambda launch, d=d: iso(launch.timestamp_ns, d) for d in range(10)},  # type: ignore[misc]
    **{f"ingested:{d}": lambda launch, d=d: iso_ingested(launch, d) for d in range(10)},  # type: ignore[misc]
    "timestamp:ms": lambda launch: launch.timestamp_ns // 1_000_000,
    "record": lambda launch: launch.record_id,
    "record:str": lambda launch: str(launch.record_id),
    "pid": lambda launch: launch.pid,
    "parent.pid": lambda launch: launch.parent.pid,
    "parent.pid:hex": lambda launch: hex(launch.parent.pid),
    "entity:guid": lambda launch: entity_guid(launch.entity_id),
    "parent.entity:guid": lambda launch: entity_guid(launch.parent.entity_id),
    "entity:defend": lambda launch: defend_entity(launch.host, launch.pid, launch.timestamp_ns),
    "parent.entity:defend": lambda launch: defend_parent_entity(
        launch.host, launch.parent.pid, launch.timestamp_ns
    ),
}


class TemplateError(Exception):
    """A renderer whose output the template cannot describe."""


@dataclass(frozen=True)
class PartSlot:
    """A part's block for the pooled object in ``role``: whole, or its members spliced in."""

    part: Part[Any]
    members: bool
    role: str


@dataclass(frozen=True)
class RowSlot:
    """A per-launch value (a key of :data:`ROW_VALUES`); strings without their quotes."""

    name: str


@dataclass(frozen=True)
class Template:
    pieces: tuple[str | PartSlot | RowSlot, ...]


class _Recorder:
    """The part slots met while rendering the prototypes, numbered in order of first use."""

    def __init__(self) -> None:
        self.slots: list[PartSlot] = []

    def marker(self, slot: PartSlot) -> Any:
        if slot not in self.slots:
            self.slots.append(slot)
        n = self.slots.index(slot)
        fragment = orjson.Fragment(b"\x01%d\x01" % n)
        # Members are spread into the enclosing object: one key stands for all of them.
        return {f"\x01{n}": fragment} if slot.members else fragment


def _placeholder(cls: type[Any], role: str, recorder: _Recorder, *args: Any) -> Any:
    class Stand(cls, Placeholder):  # type: ignore[misc]
        def marker(self, which: Part[Any], members: bool) -> Any:
            return recorder.marker(PartSlot(which, members, role))

    return Stand(*args)


def _prototype(n: int, recorder: _Recorder) -> Launch:
    """A background launch whose pooled objects are placeholders and whose numbers stand out."""
    from generators.background import BACKGROUND  # numpy: only where a template is derived

    text = "\x02" * (n + 1)  # what a renderer must not read outside a part: other text, other length
    host = _placeholder(Host, "host", recorder, *[text] * 3, "windows", *[text] * 6)
    user = _placeholder(User, "user", recorder, text, text, text, text)
    image = _placeholder(Image, "image", recorder, *[text] * 10)
    parent_image = _placeholder(Image, "parent.image", recorder, *[text] * 10)
    entity = f"{0x5A17C0DE + n:016x}{0x0DDBA11 + n:016x}"
    parent = _placeholder(
        Parent, "parent", recorder, parent_image, (text,), text, 876_540 + 4 * n, entity[::-1]
    )
    launch: Launch = _placeholder(
        Launch,
        "command",
        recorder,
        2_000_000_000_987_654_321 + n * 86_400_001_000_000,  # late in a second: ingested is in the next
        host,
        user,
        image,
        (text,),
        text,
        987_650 + 4 * n,
        entity,
        parent,
        BACKGROUND,
    )
    launch.record_id = 765_431 + n
    return launch


_MARKER = re.compile(rb'"\\u0001(\d+)":\x01\1\x01|\x01(\d+)\x01')


def _split(line: bytes, launch: Launch, recorder: _Recorder) -> list[str | PartSlot | RowSlot]:
    pieces: list[str | PartSlot | RowSlot] = []
    at = 0
    for found in _MARKER.finditer(line):
        pieces.extend(_rows(line[at : found.start()].decode(), launch))
        pieces.append(recorder.slots[int(found.group(1) or found.group(2))])
        at = found.end()
    pieces.extend(_rows(line[at:].decode(), launch))
    return pieces


def _rows(text: str, launch: Launch) -> list[str | RowSlot]:
    """``text`` split at the launch's per-row values, each found only where a JSON value stands."""
    values = {orjson.dumps(fn(launch)).decode(): name for name, fn in ROW_VALUES.items()}
    if len(values) != len(ROW_VALUES):
        raise TemplateError("two row values of the prototype have the same text")
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    pieces: list[str | RowSlot] = []
    at = 0
    for found in re.finditer(rf"(?<=[:\[,])(?:{alternatives})(?=[,\]}}])", text):
        value = found.group()
        quoted = value.startswith('"')
        pieces.append(text[at : found.start()] + ('"' if quoted else ""))
        pieces.append(RowSlot(values[value]))
        at = found.end() - (1 if quoted else 0)
    pieces.append(text[at:])
    return pieces


def _merged(pieces: list[str | PartSlot | RowSlot]) -> tuple[str | PartSlot | RowSlot, ...]:
    out: list[str | PartSlot | RowSlot] = []
    for piece in pieces:
        if isinstance(piece, str) and out and isinstance(out[-1], str):
            out[-1] += piece
        elif piece != "":
            out.append(piece)
    return tuple(out)


def derive(dumps: Callable[[Launch], bytes]) -> Template:
    """The template of the lines ``dumps`` gives for background launches (a newline added)."""
    recorder = _Recorder()
    first, second = (
        _merged([*_split(dumps(launch), launch, recorder), "\n"])
        for launch in (_prototype(0, recorder), _prototype(1, recorder))
    )
    if first != second:
        pairs = enumerate(zip(first, second, strict=False))
        where = next((i for i, (a, b) in pairs if a != b), min(len(first), len(second)))
        raise TemplateError(
            "the renderer's line depends on a launch value outside its parts and row values "
            f"(from piece {where}: {first[where : where + 1]!r} vs {second[where : where + 1]!r})"
        )
    return Template(first)

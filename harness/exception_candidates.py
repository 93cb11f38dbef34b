"""Candidate exception entries read off false positives' own values.

Each false positive offers a ``match`` entry per value of the fields an analyst would write an
exception on (the process's arguments and command line, its parent, its image, the account),
and a ``wildcard`` on its command line with the program left open: monitoring scripts call
AppCmd as ``appcmd``, by its full path or quoted, and one entry ``* list site /text:name``
covers every spelling where a ``match`` would need one value each. Only string fields the
mapping indexes as keywords are offered: a ``match`` on a ``text`` field is an analysed phrase
the harness does not model. Values of the same field are merged into one ``match_any`` after
the cover is chosen (``merge_matches``), so the proposal has the fewest entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.eql.fields import field_values
from harness.eql.mapping import FieldMapping
from harness.exceptions.match import mapped_kind
from harness.exceptions.model import Entry, ExceptionItem, Match, MatchAny, Wildcard

__all__ = ["CANDIDATE_FIELDS", "WILDCARD_FIELDS", "candidate_entries", "escape_wildcard", "merge_matches"]

# In the order a tie is broken: the arguments that made the rule fire say most about the noise,
# the account least (an exception on an administrator's name hides whatever that account does).
CANDIDATE_FIELDS = (
    "process.args",
    "process.command_line",
    "process.parent.command_line",
    "process.parent.executable",
    "process.parent.name",
    "process.executable",
    "process.name",
    "user.name",
)
WILDCARD_FIELDS = ("process.command_line",)
_KEYWORDS = frozenset({"keyword", "constant_keyword", "wildcard"})


def escape_wildcard(text: str) -> str:
    """``text`` as a literal in Lucene's wildcard syntax: ``\\`` escapes ``*``, ``?`` and itself."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _program_and_rest(command_line: str) -> str:
    """The command line after its program (quoted or bare), or "" when it has no arguments."""
    text = command_line.lstrip()
    if text.startswith('"'):
        end = text.find('"', 1)
        return "" if end < 0 else text[end + 1 :]
    space = text.find(" ")
    return "" if space < 0 else text[space:]


def candidate_entries(document: Mapping[str, Any], mapping: FieldMapping) -> list[Entry]:
    """Every entry built from ``document``'s values that would match it, in tie-break order."""
    out: list[Entry] = []
    for name in CANDIDATE_FIELDS:
        if mapped_kind(mapping, name) not in _KEYWORDS:
            continue
        values = [v for v in field_values(document, tuple(name.split("."))) if isinstance(v, str) and v]
        out.extend(Match(name, value) for value in dict.fromkeys(values))
        if name in WILDCARD_FIELDS:
            for value in dict.fromkeys(values):
                rest = _program_and_rest(value)
                if rest.strip():
                    out.append(Wildcard(name, "*" + escape_wildcard(rest)))
    return out


def merge_matches(
    items: Sequence[ExceptionItem], make: Callable[[tuple[Entry, ...]], ExceptionItem]
) -> list[ExceptionItem]:
    """Single-entry ``match``/``match_any`` items on one field as one ``match_any`` item (same OR).

    ``make(entries)`` builds the merged item; the others are kept as they are, in order.
    """
    by_field: dict[str, list[str]] = {}
    kept: list[ExceptionItem | str] = []
    for item in items:
        only = item.entries[0] if len(item.entries) == 1 else None
        if isinstance(only, Match | MatchAny) and only.operator == "included":
            values = (only.value,) if isinstance(only, Match) else only.values
            if only.field not in by_field:
                by_field[only.field] = []
                kept.append(only.field)
            by_field[only.field].extend(v for v in values if v not in by_field[only.field])
        else:
            kept.append(item)
    out: list[ExceptionItem] = []
    for slot in kept:
        if isinstance(slot, ExceptionItem):
            out.append(slot)
            continue
        merged = by_field[slot]
        entry: Entry = Match(slot, merged[0]) if len(merged) == 1 else MatchAny(slot, tuple(merged))
        out.append(make((entry,)))
    return out

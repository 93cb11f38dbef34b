"""The field values a query cannot match without: a key to skip it on events that hold none.

Many rules begin with a conjunct like ``process.name : ("cmd.exe", "powershell.exe")``: an
event whose ``process.name`` is neither cannot match, whatever the rest says. For a query
whose condition has such a conjunct, :func:`required_values` gives the (field, value) pairs
it names, one of which every match holds. A pass over many rules can then look an event's
values up once and judge only the queries it could match (:mod:`harness.validation.row_scan`).

Only what is exact is a key: ``:`` and ``like~`` patterns without ``*`` or ``?`` (compared
as the matcher compares them, ASCII letters in either case and every other code point only
itself, so both sides are ASCII-lowered), ``like``, ``in`` and ``==`` with strings (exact),
``in~`` (ASCII-lowered), and an ``or`` of such, possibly over several fields. A query with a
function call or arithmetic anywhere has no key: those can fail the search on an event
(:class:`~harness.errors.EqlEvaluationError`), and skipping the event would hide the failure.
An event holding a value of another type than a string in a key field is judged, not looked
up: whether a number matches a string pattern is the matcher's to say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.eql.ast import (
    And,
    Arithmetic,
    Comparison,
    Expr,
    Field,
    FunctionCall,
    InSet,
    Literal,
    Match,
    Negate,
    Or,
    Query,
    walk,
)
from harness.eql.getters import compile_getter
from harness.eql.optimizer import optimize

__all__ = ["RequiredValue", "ascii_lower", "keyed", "required_values"]

_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
# ECS fields with a short list of allowed values: nearly every event holds one of the few a rule
# names (``host.os.type == "windows"``), so a key on them looks up almost every query.
_ENUMERATED = frozenset(
    {
        ("event", "kind"),
        ("event", "category"),
        ("event", "type"),
        ("event", "outcome"),
        ("host", "os", "type"),
    }
)
_INSENSITIVE_PATTERNS = (":", "like~")
_SENSITIVE_PATTERNS = ("like",)


@dataclass(frozen=True)
class RequiredValue:
    """A value of a field that a match may hold; ``folded``: ``value`` is ASCII-lowered, and so
    must the event's be before comparing."""

    path: tuple[str, ...]
    value: str
    folded: bool


def ascii_lower(text: str) -> str:
    """``text`` with ASCII letters lowered and every other code point kept: the matcher's folding."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def required_values(query: Query) -> tuple[RequiredValue, ...] | None:
    """Pairs one of which every event ``query`` matches holds, or None for no such key.

    Of several conjuncts with a key, the one naming the fewest values is taken, unless its
    fields are ones every event holds one of a few values of (ECS's enumerated fields); an ``or``
    has a key when each of its branches has one (a branch that is a conjunction, by the same
    choice among its conjuncts), the union of theirs.
    """
    # As written, not as optimized: an engine may evaluate the arithmetic the optimizer folds.
    if any(isinstance(node, FunctionCall | Arithmetic | Negate) for node in walk(query.condition)):
        return None
    return _alternatives(optimize(query.condition))


def _best(keys: list[tuple[RequiredValue, ...]]) -> tuple[RequiredValue, ...] | None:
    """Of the keys of a conjunction's operands (each one holds for it), the fewest values, on fields
    that tell events apart before fields that hardly do."""
    return min(keys, key=lambda key: (any(r.path in _ENUMERATED for r in key), len(key))) if keys else None


def _alternatives(node: Expr) -> tuple[RequiredValue, ...] | None:
    """The values ``node`` is true only with one of, or None when it can be true without any."""
    match node:
        case Match(op=op, subject=Field() as field, patterns=patterns) if op in (
            *_INSENSITIVE_PATTERNS,
            *_SENSITIVE_PATTERNS,
        ):
            texts = _strings(patterns)
            if texts is None or any("*" in text or "?" in text for text in texts):
                return None
            return _pairs(field, texts, folded=op in _INSENSITIVE_PATTERNS)
        case InSet(subject=Field() as field, values=values, insensitive=insensitive, negated=False):
            texts = _strings(values)
            return None if texts is None else _pairs(field, texts, folded=insensitive)
        case (
            Comparison(op="==", left=Field() as field, right=Literal(value=str() as text))
            | Comparison(op="==", left=Literal(value=str() as text), right=Field() as field)
        ):
            return _pairs(field, [text], folded=False)
        case And(operands=operands):  # true only when every operand is: any operand's key holds
            return _best([key for key in map(_alternatives, operands) if key])
        case Or(operands=operands):  # a branch of a rule such as (A and B) or (C and D) has one too
            found: list[RequiredValue] = []
            for operand in operands:
                alternatives = _alternatives(operand)
                if alternatives is None:
                    return None
                found += alternatives
            return tuple(dict.fromkeys(found))
    return None


def _strings(values: tuple[Expr, ...]) -> list[str] | None:
    texts = [value.value for value in values if isinstance(value, Literal) and isinstance(value.value, str)]
    return texts if len(texts) == len(values) and texts else None


def _pairs(field: Field, texts: list[str], *, folded: bool) -> tuple[RequiredValue, ...]:
    return tuple(
        dict.fromkeys(RequiredValue(field.path, ascii_lower(t) if folded else t, folded) for t in texts)
    )


Predicate = Callable[[Mapping[str, Any]], bool]


def keyed(predicate: Predicate, query: Query) -> Predicate:
    """``predicate`` (the compiled engine's, for ``query``) asked only about events holding a value
    ``query`` requires, false on the rest without running it; ``predicate`` itself for a query with
    no key. An event holding a value that is not a string in a key field is asked: whether a number
    matches a string pattern is the predicate's to say."""
    key = required_values(query)
    if key is None:
        return predicate
    tables: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}
    for required in key:
        exact, folded = tables.setdefault(required.path, (set(), set()))
        (folded if required.folded else exact).add(required.value)
    fields = [(compile_getter(path), exact, folded) for path, (exact, folded) in tables.items()]

    def keyed_predicate(event: Mapping[str, Any]) -> bool:
        for getter, exact, folded in fields:
            for value in getter(event):
                if type(value) is not str or value in exact:
                    return predicate(event)
                # ascii_lower, spelled out: this runs for every value of every event
                if folded and (value.lower() if value.isascii() else ascii_lower(value)) in folded:
                    return predicate(event)
        return False

    return keyed_predicate

"""Events that tell two queries apart, grouped into the changes a reviewer should read once each.

A derivation finds several events per change: letter-case variants, one per branch of
an ``or`` both versions share (``process.name`` or ``process.pe.original_file_name``),
several fills of one pattern. Two events are one change when the predicates that only
one version has (its *changed* predicates) say the same of both, and when letter case
either is, or is not, all that tells the versions apart on both. Predicates the
versions share are left out of the comparison: every event either version alerts on
satisfies them, whichever branch it takes.

A ``:`` with several patterns and an ``in`` with several values are split into one
predicate per pattern or value, so that a change to one alternative of a list (a
pattern added, one dropped) is a change of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from harness.eql import (
    And,
    Expr,
    Field,
    FieldMapping,
    InSet,
    Match,
    Matcher,
    Not,
    Or,
    Query,
    format_expr,
    walk,
)
from harness.errors import HarnessError

__all__ = ["ChangeKey", "Grouper"]

# How a lost or gained event is told apart from the others: which changed predicates of
# OLD and of NEW hold on it, and whether the versions agree on it in another letter case.
ChangeKey = tuple[str, tuple[bool, ...], tuple[bool, ...], str]

_FOLDS: tuple[tuple[str, Callable[[str], str]], ...] = (("lower", str.lower), ("upper", str.upper))


@dataclass(frozen=True)
class _Predicate:
    text: str
    fields: tuple[str, ...]
    matcher: Matcher

    def holds(self, document: Mapping[str, Any]) -> bool:
        return _safe(self.matcher, document)


class Grouper:
    """Keys and explanations of changes between ``old`` and ``new``; each predicate compiled once."""

    def __init__(
        self,
        old: Query,
        new: Query,
        *,
        old_name: str,
        new_name: str,
        mapping: FieldMapping | None = None,
        category_field: str = "event.category",
    ) -> None:
        self.old_name, self.new_name = old_name, new_name
        options: dict[str, Any] = {"category_field": category_field, "mapping": mapping}
        self.old = Matcher(old, **options)
        self.new = Matcher(new, **options)
        old_texts = {format_expr(e): e for e in _predicates(old.condition)}
        new_texts = {format_expr(e): e for e in _predicates(new.condition)}
        changed_old = [t for t in old_texts if t not in new_texts]
        changed_new = [t for t in new_texts if t not in old_texts]
        if not changed_old and not changed_new:
            # The same predicates, combined differently: every one of them tells events apart.
            changed_old, changed_new = list(old_texts), list(new_texts)
        self.old_predicates = [_compile(old_texts[t], options) for t in changed_old]
        self.new_predicates = [_compile(new_texts[t], options) for t in changed_new]
        self._fields = tuple(
            dict.fromkeys(f for p in (*self.old_predicates, *self.new_predicates) for f in p.fields)
        )

    def key(self, direction: str, document: Mapping[str, Any]) -> ChangeKey:
        return (
            direction,
            tuple(p.holds(document) for p in self.old_predicates),
            tuple(p.holds(document) for p in self.new_predicates),
            self._case_only(document),
        )

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the changed predicates read: what a reviewer should read first in an event."""
        return self._fields

    def explain(self, key: ChangeKey, document: Mapping[str, Any]) -> str:
        """Why the versions disagree on events of this change, in one line."""
        _, old_holds, new_holds, fold = key
        old_texts = _holding(self.old_predicates, old_holds)
        new_texts = _holding(self.new_predicates, new_holds)
        if old_texts and new_texts:
            why = f"{self.old_name}: {old_texts} holds; {self.new_name}: {new_texts} holds"
        elif old_texts or new_texts:
            only = self.old_name if old_texts else self.new_name
            why = f"of the changed predicates, only {only}'s {old_texts or new_texts} holds"
        else:
            why = "no changed predicate holds: the versions combine them differently"
        if not fold:
            return why
        folded = _folded(document, self._fields, dict(_FOLDS)[fold])
        newly = [
            f"{name}'s `{p.text}`"
            for name, predicates in (
                (self.old_name, self.old_predicates),
                (self.new_name, self.new_predicates),
            )
            for p in predicates
            if p.holds(folded) and not p.holds(document)
        ]
        return f"letter case: in {fold} case {' and '.join(newly) or 'both alert'} holds too; {why}"

    def _case_only(self, document: Mapping[str, Any]) -> str:
        """``lower`` or ``upper`` when both versions alert on the event in that case; else ''."""
        if not self._fields:
            return ""
        for name, fold in _FOLDS:
            folded = _folded(document, self._fields, fold)
            if _safe(self.old, folded) and _safe(self.new, folded):
                return name
        return ""


def _holding(predicates: Sequence[_Predicate], holds: tuple[bool, ...]) -> str:
    return " and ".join(f"`{p.text}`" for p, held in zip(predicates, holds, strict=True) if held)


def _predicates(condition: Expr) -> Iterator[Expr]:
    """The leaf predicates of ``condition`` (below ``and``, ``or``, ``not``), lists split."""
    match condition:
        case And(operands=operands) | Or(operands=operands):
            for operand in operands:
                yield from _predicates(operand)
        case Not(operand=operand):
            yield from _predicates(operand)
        case Match(patterns=patterns) if len(patterns) > 1:
            for pattern in patterns:
                yield Match(condition.op, condition.subject, (pattern,), condition.span)
        case InSet(values=values) if len(values) > 1:
            for value in values:
                yield InSet(
                    condition.subject, (value,), condition.insensitive, condition.negated, condition.span
                )
        case _:
            yield condition


def _compile(expr: Expr, options: dict[str, Any]) -> _Predicate:
    fields = tuple(dict.fromkeys(n.name for n in walk(expr) if isinstance(n, Field)))
    return _Predicate(format_expr(expr), fields, Matcher(Query(None, expr), **options))


def _folded(document: Mapping[str, Any], fields: Sequence[str], fold: Callable[[str], str]) -> dict[str, Any]:
    """``document`` with the strings of ``fields`` (nested or dotted keys) in another case."""
    copy = deepcopy(dict(document))
    for name in fields:
        _fold_path(copy, name.split("."), fold)
    return copy


def _fold_path(node: Any, path: list[str], fold: Callable[[str], str]) -> None:
    if not isinstance(node, dict):
        if isinstance(node, list):
            for item in node:
                _fold_path(item, path, fold)
        return
    for cut in range(len(path), 0, -1):
        key = ".".join(path[:cut])
        if key not in node:
            continue
        if cut == len(path):
            node[key] = _fold_value(node[key], fold)
        else:
            _fold_path(node[key], path[cut:], fold)


def _fold_value(value: Any, fold: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fold(value)
    if isinstance(value, list):
        return [_fold_value(v, fold) for v in value]
    return value


def _safe(matcher: Matcher, document: Mapping[str, Any]) -> bool:
    try:
        return matcher.matches(document)
    except HarnessError:  # a value the mapping refuses: Elasticsearch would not return the document
        return False

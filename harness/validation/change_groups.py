"""Events that tell two queries apart, grouped into the changes a reviewer should read once each.

A derivation finds several events per change: letter-case variants, one per branch of
an ``or`` both versions share (``process.name`` or ``process.pe.original_file_name``),
several fills of one pattern. What makes them one change is *why* the versions
disagree on them. That is read off each event's *decisive* predicates: of the
predicates only one version has (its changed predicates), those whose truth, flipped
on that event alone, would make the two versions agree. ``/TEXT:*`` lost and
``/text:name`` lost have the same decisive predicates (v214's ``/text*`` catches both,
any of v220's alternatives would), so letter case tells them apart: the versions agree
on ``/TEXT:*`` written in lower case and not on ``/text:name``. A predicate that holds
by accident of the fleet's fills (a version resource, a user) is not decisive, so it
does not split a change.

Two lost (or two gained) events are one change when the same predicates are decisive
on both, with the same truth, and letter case either is, or is not, all that tells the
versions apart. A ``:`` with several patterns and an ``in`` with several values are
read as an ``or`` of one predicate per pattern or value (the same under any-element
semantics), so a pattern added to a list, or dropped, is a change of its own.
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
    Literal,
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

# What a lost or gained event's change is: the truth of each changed predicate of OLD and
# of NEW where it is decisive (None where it is not), and the letter case, if any, in
# which both versions alert on the event.
ChangeKey = tuple[str, tuple[bool | None, ...], tuple[bool | None, ...], str]

_FOLDS: tuple[tuple[str, Callable[[str], str]], ...] = (("lower", str.lower), ("upper", str.upper))


@dataclass(frozen=True)
class _Predicate:
    """A changed predicate of one version, with that version's query made true and false in its place."""

    text: str
    fields: tuple[str, ...]
    test: Matcher
    flipped: tuple[Matcher, Matcher]  # the version with this predicate replaced by false, by true

    def holds(self, document: Mapping[str, Any]) -> bool:
        return _safe(self.test, document)

    def alerts_if_flipped(self, document: Mapping[str, Any]) -> bool:
        """Whether the version alerts on ``document`` when this predicate alone says the opposite."""
        return _safe(self.flipped[not self.holds(document)], document)


class _Version:
    """One version's query, and its changed predicates, each ready to be flipped."""

    def __init__(self, query: Query, own: Sequence[str], options: dict[str, Any]) -> None:
        self.matcher = Matcher(query, **options)
        condition = _lists_as_or(query.condition)
        by_text = {format_expr(e): e for e in _leaves(condition)}

        def flipped(text: str, value: bool) -> Matcher:
            return Matcher(Query(query.category, _replace(condition, text, Literal(value))), **options)

        self.predicates = [
            _Predicate(
                text,
                tuple(dict.fromkeys(n.name for n in walk(by_text[text]) if isinstance(n, Field))),
                Matcher(Query(None, by_text[text]), **options),
                (flipped(text, False), flipped(text, True)),
            )
            for text in own
        ]

    def alerts(self, document: Mapping[str, Any]) -> bool:
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
        old_texts = [format_expr(e) for e in _leaves(_lists_as_or(old.condition))]
        new_texts = [format_expr(e) for e in _leaves(_lists_as_or(new.condition))]
        changed_old = [t for t in dict.fromkeys(old_texts) if t not in new_texts]
        changed_new = [t for t in dict.fromkeys(new_texts) if t not in old_texts]
        if not changed_old and not changed_new:
            # The same predicates, combined differently: every one of them may tell events apart.
            changed_old, changed_new = list(dict.fromkeys(old_texts)), list(dict.fromkeys(new_texts))
        self.old = _Version(old, changed_old, options)
        self.new = _Version(new, changed_new, options)
        self._fields = tuple(
            dict.fromkeys(f for p in (*self.old.predicates, *self.new.predicates) for f in p.fields)
        )

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the changed predicates read: what a reviewer should read first in an event."""
        return self._fields

    def key(self, direction: str, document: Mapping[str, Any]) -> ChangeKey:
        """The change ``document`` (lost or gained: ``direction``) belongs to."""
        old_decisive, new_decisive = self._decisive(document)
        return (
            direction,
            tuple(p.holds(document) if p in old_decisive else None for p in self.old.predicates),
            tuple(p.holds(document) if p in new_decisive else None for p in self.new.predicates),
            self._case_only(document),
        )

    def explain(self, document: Mapping[str, Any]) -> str:
        """Why the versions disagree on ``document``, in one line: its decisive predicates that hold."""
        old_decisive, new_decisive = self._decisive(document)
        old_texts = " and ".join(f"`{p.text}`" for p in old_decisive if p.holds(document))
        new_texts = " and ".join(f"`{p.text}`" for p in new_decisive if p.holds(document))
        if old_texts and new_texts:
            why = f"{self.old_name}: {old_texts} holds; {self.new_name}: {new_texts} holds"
        elif old_texts or new_texts:
            only = self.old_name if old_texts else self.new_name
            why = f"of the changed predicates, only {only}'s {old_texts or new_texts} holds"
        else:
            why = "no changed predicate holds: the versions combine them differently"
        fold = self._case_only(document)
        if not fold:
            return why
        folded = _folded(document, self._fields, dict(_FOLDS)[fold])
        newly = [
            f"{name}'s `{p.text}`"
            for name, version in ((self.old_name, self.old), (self.new_name, self.new))
            for p in version.predicates
            if p.holds(folded) and not p.holds(document)
        ]
        return f"letter case: in {fold} case {' and '.join(newly) or 'both alert'} holds too; {why}"

    def _decisive(self, document: Mapping[str, Any]) -> tuple[list[_Predicate], list[_Predicate]]:
        """The changed predicates of each version whose truth, flipped, ends the disagreement."""
        was, now = self.old.alerts(document), self.new.alerts(document)
        return (
            [p for p in self.old.predicates if p.alerts_if_flipped(document) == now],
            [p for p in self.new.predicates if p.alerts_if_flipped(document) == was],
        )

    def _case_only(self, document: Mapping[str, Any]) -> str:
        """``lower`` or ``upper`` when both versions alert on the event in that case; else ''."""
        if not self._fields:
            return ""
        for name, fold in _FOLDS:
            folded = _folded(document, self._fields, fold)
            if self.old.alerts(folded) and self.new.alerts(folded):
                return name
        return ""


def _map_leaves(node: Expr, change: Callable[[Expr], Expr]) -> Expr:
    """``node`` with ``change`` applied to each predicate below ``and``, ``or`` and ``not``."""
    match node:
        case And(operands=operands):
            return And(tuple(_map_leaves(o, change) for o in operands), node.span)
        case Or(operands=operands):
            return Or(tuple(_map_leaves(o, change) for o in operands), node.span)
        case Not(operand=operand):
            return Not(_map_leaves(operand, change), node.span)
    return change(node)


def _lists_as_or(node: Expr) -> Expr:
    """``node`` with each ``:`` list and ``in`` list written as an ``or`` of single predicates."""
    return _map_leaves(node, _split)


def _split(node: Expr) -> Expr:
    match node:
        case Match(patterns=patterns) if len(patterns) > 1:
            return Or(tuple(Match(node.op, node.subject, (p,), node.span) for p in patterns), node.span)
        case InSet(values=values) if len(values) > 1:
            # ``not in`` is ``not (in)``: true when the field is missing, as Elasticsearch reads it.
            each = Or(tuple(InSet(node.subject, (v,), node.insensitive, False, node.span) for v in values))
            return Not(each, node.span) if node.negated else each
    return node


def _leaves(node: Expr) -> Iterator[Expr]:
    """The predicates below ``and``, ``or`` and ``not``."""
    match node:
        case And(operands=operands) | Or(operands=operands):
            for operand in operands:
                yield from _leaves(operand)
        case Not(operand=operand):
            yield from _leaves(operand)
        case _:
            yield node


def _replace(node: Expr, text: str, by: Expr) -> Expr:
    """``node`` with every predicate printed as ``text`` replaced by ``by``."""
    return _map_leaves(node, lambda leaf: by if format_expr(leaf) == text else leaf)


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

"""The compiled engine: the reference evaluator's semantics with faster machinery.

Same tree, same rewrites, same script path; what changes is how a field is read (a
generated getter per path instead of the generic walker) and how the commonest
patterns are tested: an ASCII pattern compared case-insensitively needs no regular
expression, only ``isascii`` and ``lower`` (an ASCII pattern can only match ASCII text
under Elasticsearch's ASCII-only folding, so the shortcut is exact). The differential
tests hold it to the reference's answers on random queries and events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.eql.ast import And, Expr, Field, Match, Or, Query
from harness.eql.evaluator import Evaluator, _wildcard
from harness.eql.getters import Getter, compile_getter
from harness.eql.java import JavaError
from harness.eql.mapping import FieldMapping
from harness.errors import EqlEvaluationError

__all__ = ["CompiledEvaluator"]

Test = Callable[[Mapping[str, Any]], bool]


class CompiledEvaluator(Evaluator):
    """Drop-in for :class:`Evaluator`: ``matches(event)`` gives the same answer, faster.

    ``getters`` gives each path's getter: :func:`compile_getter`, or a pass's
    :class:`~harness.eql.getters.SharedReads`, whose getters read a field once per event for
    every query compiled with them.
    """

    def __init__(
        self,
        query: Query,
        *,
        category_field: str,
        mapping: FieldMapping | None,
        getters: Callable[[tuple[str, ...]], Getter] = compile_getter,
    ) -> None:
        self._getter = getters
        super().__init__(query, category_field=category_field, mapping=mapping)

    def predicate(self) -> Test:
        # One closure per event instead of three calls: the category test, then the condition.
        condition = self._condition
        category = self.query.category
        if category is None or self.mapping is not None:
            return self.matches
        categories = self._getter(self.category_path)

        def matches(event: Mapping[str, Any]) -> bool:
            if category not in categories(event):
                return False
            try:
                return condition(event)
            except JavaError as error:
                raise EqlEvaluationError(
                    f"Elasticsearch would fail the search on this event: {error}"
                ) from error

        return matches

    def compile_condition(self, node: Expr) -> Test:
        if isinstance(node, (And, Or)):
            parts = [self.compile_condition(o) for o in node.operands]
            if isinstance(node, And):
                if len(parts) == 2:
                    first, second = parts
                    return lambda event: first(event) and second(event)

                def all_of(event: Mapping[str, Any]) -> bool:
                    for part in parts:
                        if not part(event):
                            return False
                    return True

                return all_of

            def any_of(event: Mapping[str, Any]) -> bool:
                for part in parts:
                    if part(event):
                        return True
                return False

            return any_of
        return super().compile_condition(node)

    def comparison_query(self, field: Field, op: str, value: Any) -> Test:
        if self.mapping is None and op == "==" and type(value) is str:
            getter = self._getter(field.path)

            def equal(event: Mapping[str, Any]) -> bool:
                # Only a string equals a string: numbers and booleans never do.
                return value in getter(event)

            return equal
        return super().comparison_query(field, op, value)

    def values(self, name: str, path: tuple[str, ...], event: Mapping[str, Any]) -> list[Any]:
        raw = self._getter(path)(event)
        return self.mapping.indexed(name, raw) if self.mapping else raw

    def field_test(self, field: Field, test: Callable[[Any], bool]) -> Test:
        getter = self._getter(field.path)
        if self.mapping is not None:
            return super().field_test(field, test)

        def run(event: Mapping[str, Any]) -> bool:
            for value in getter(event):
                if test(value):
                    return True
            return False

        return run

    def match_query(self, field: Field, node: Match) -> Test:
        patterns = [p.value for p in node.patterns]
        fast = None
        if self.mapping is None and node.op in (":", "like~", "like") and None not in patterns:
            fast = [_ascii_test(str(p), node.op != "like") for p in patterns]
        if fast is None or any(t is None for t in fast):
            return super().match_query(field, node)
        tests = [t for t in fast if t is not None]
        getter = self._getter(field.path)
        if len(tests) == 1:
            (only,) = tests

            def run_one(event: Mapping[str, Any]) -> bool:
                for value in getter(event):
                    if type(value) is str and only(value):
                        return True
                return False

            return run_one

        def run_any(event: Mapping[str, Any]) -> bool:
            for value in getter(event):
                if type(value) is str:
                    for test in tests:
                        if test(value):
                            return True
            return False

        return run_any


def _ascii_test(pattern: str, insensitive: bool) -> Callable[[str], bool] | None:
    """A regex-free test for the common shapes: exact, ``prefix*``, ``*suffix``; None otherwise."""
    if not pattern.isascii() or "?" in pattern:
        return None
    stars = pattern.count("*")
    if stars == 0:
        return _exact(pattern, insensitive)
    if stars == 1 and pattern.endswith("*"):
        return _prefix(pattern[:-1], insensitive)
    if stars == 1 and pattern.startswith("*"):
        return _suffix(pattern[1:], insensitive)
    return _wildcard(":" if insensitive else "like", pattern).matches


def _exact(text: str, insensitive: bool) -> Callable[[str], bool]:
    if not insensitive:
        return lambda value: value == text
    lowered, size = text.lower(), len(text)
    return lambda value: len(value) == size and value.isascii() and value.lower() == lowered


def _prefix(text: str, insensitive: bool) -> Callable[[str], bool]:
    if not insensitive:
        return lambda value: value.startswith(text)
    lowered, size = text.lower(), len(text)

    def test(value: str) -> bool:
        head = value[:size]
        return len(head) == size and head.isascii() and head.lower() == lowered

    return test


def _suffix(text: str, insensitive: bool) -> Callable[[str], bool]:
    if not insensitive:
        return lambda value: value.endswith(text)
    lowered, size = text.lower(), len(text)

    def test(value: str) -> bool:
        if len(value) < size:
            return False
        tail = value[len(value) - size :]
        return tail.isascii() and tail.lower() == lowered

    return test

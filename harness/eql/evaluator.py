"""The reference evaluator: for one event, would Elasticsearch return it for this query?

Elasticsearch turns each predicate into a Lucene query when it can (a field compared
with constants: term, terms, range, wildcard, prefix, regexp, exists) and into a
painless script otherwise. The two paths are modelled separately because they differ:

* query path: the predicate holds when ANY indexed value of the field satisfies it;
* script path: the script runs once per combination of the values of the fields it
  reads (a missing field is one null), and holds when any run returns true
  (``InternalEqlScriptUtils.multiValueDocValues``); a null result is false.

``not``, ``!=`` and ``not in`` negate the whole predicate (``bool must_not`` or a
negated script), so they are true for an event that lacks the field altogether.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from ipaddress import IPv6Address
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
    Not,
    Or,
    Query,
    walk,
)
from harness.eql.automata import Automaton
from harness.eql.fields import field_values
from harness.eql.functions import (
    ARITHMETIC_FUNCTIONS,
    FUNCTIONS,
    arithmetic_value,
    call,
    java_int,
    parse_cidr,
)
from harness.eql.java import JavaError, compare, negate
from harness.eql.lucene_regex import RegexError, compile_lucene_regex
from harness.eql.mapping import FieldMapping, field_type, query_constant, to_ip
from harness.eql.optimizer import optimize
from harness.eql.patterns import Glob, eql_wildcard, exact, lucene_wildcard, prefix
from harness.errors import EqlEvaluationError, EqlUnsupportedError
from harness.timestamps import epoch_ms

__all__ = ["Evaluator"]

_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDER = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


class Evaluator:
    """Evaluates one parsed, verified query against events."""

    def __init__(self, query: Query, *, category_field: str, mapping: FieldMapping | None) -> None:
        self.query = query
        self.category_path = tuple(category_field.split("."))
        self.category_field = category_field
        self.mapping = mapping
        # The tree is rewritten as Elasticsearch's optimizer would, then turned into
        # closures once, so nothing is re-planned per event.
        condition = optimize(query.condition)
        for node in walk(condition):
            if isinstance(node, Match) and node.op.startswith("regex"):
                self.regex(node)  # an automaton too large is an error now, not on some event
        self._condition = self.compile_condition(condition)

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.query.category is not None:
            categories = self.values(self.category_field, self.category_path, event)
            if self.query.category not in categories:
                return False
        try:
            return self._condition(event)
        except JavaError as error:
            raise EqlEvaluationError(f"Elasticsearch would fail the search on this event: {error}") from error

    def predicate(self) -> Callable[[Mapping[str, Any]], bool]:
        """The function a :class:`Matcher` calls per event; an engine may fuse its layers."""
        return self.matches

    def values(self, name: str, path: tuple[str, ...], event: Mapping[str, Any]) -> list[Any]:
        raw = field_values(event, path)
        return self.mapping.indexed(name, raw) if self.mapping else raw

    # -- conditions ---------------------------------------------------------------

    def compile_condition(self, node: Expr) -> Callable[[Mapping[str, Any]], bool]:
        match node:
            case And(operands=operands):
                parts = [self.compile_condition(o) for o in operands]
                return lambda event: all(part(event) for part in parts)
            case Or(operands=operands):
                parts = [self.compile_condition(o) for o in operands]
                return lambda event: any(part(event) for part in parts)
            case Not(operand=operand):
                inner = self.compile_condition(operand)
                return lambda event: not inner(event)
            case Comparison(op="!=", left=left, right=right):
                equal = self.compile_condition(Comparison("==", left, right, node.span))
                return lambda event: not equal(event)
            case InSet(negated=True):
                member = self.compile_condition(
                    InSet(node.subject, node.values, node.insensitive, False, node.span)
                )
                return lambda event: not member(event)
            case Field():
                name, path = node.name, node.path
                return lambda event: any(v is True for v in self.values(name, path, event))
        query = self.as_lucene_query(node)
        if query is not None:
            return query
        fields = _fields(node)
        return lambda event: self.script(node, fields, event)

    # -- query path ---------------------------------------------------------------

    def as_lucene_query(self, node: Expr) -> Callable[[Mapping[str, Any]], bool] | None:
        """The predicate as Elasticsearch's Lucene query would judge it, or None for a script."""
        if self.mapping is None:
            dates = self.unmapped_date_query(node)
            if dates is not None:
                return dates
        match node:
            case Comparison(op=op, left=Field() as field, right=Literal(value=value)):
                return self.comparison_query(field, op, value)
            case Comparison(op=op, left=Literal(value=value), right=Field() as field):
                return self.comparison_query(field, _FLIPPED[op], value)
            case Match(subject=Field() as field):
                return self.match_query(field, node)
            case InSet(subject=Field() as field, values=values) if all(
                isinstance(v, Literal) for v in values
            ):
                return self.in_query(field, node)
            case FunctionCall(args=(Field() as field, *rest)) if _query_function(node):
                return self.function_query(field, node.name.lower(), rest, node.insensitive)
        return None

    def unmapped_date_query(self, node: Expr) -> Callable[[Mapping[str, Any]], bool] | None:
        """A term or range query on a field that is a date without a mapping (``@timestamp``).

        The field's values are read as the index would have parsed them, and the constant
        as the query parses it with the field's format (both with ``epoch_ms``); a constant
        that is no date fails the whole search, whatever the events. An ``in``
        list of constants is a type error on a date field (the verifier's ``In`` rule).
        """
        match node:
            case Comparison(op=op, left=Field() as field, right=Literal(value=value)):
                pass
            case Comparison(op=op, left=Literal(value=value), right=Field() as field):
                op = _FLIPPED[op]
            case _:
                return None
        if field_type(None, field.name) != "date":
            return None
        name, path = field.name, field.path

        def dates(event: Mapping[str, Any]) -> list[int]:
            return [ms for raw in self.values(name, path, event) if (ms := epoch_ms(raw)) is not None]

        if value is None:  # `== null` is must_not exists; a range on null matches nothing
            return (lambda event: not dates(event)) if op == "==" else (lambda event: False)
        bound = epoch_ms(value)
        if bound is None:  # the shard cannot build the term or range query: the search fails
            raise EqlEvaluationError(
                f"Elasticsearch would fail the search: failed to parse date field [{value}] with format"
                " [strict_date_optional_time||epoch_millis]"
            )
        if op == "==":
            return lambda event: bound in dates(event)
        order = _ORDER[op]
        return lambda event: any(_ordered(ms, bound, order) for ms in dates(event))

    def field_test(self, field: Field, test: Callable[[Any], bool]) -> Callable[[Mapping[str, Any]], bool]:
        name, path = field.name, field.path
        return lambda event: any(test(v) for v in self.values(name, path, event))

    def constant_for(self, field: Field, value: Any) -> Any:
        """The query constant as the field's type reads it (a term or range bound)."""
        kind = self.mapping.type_of(field.name) if self.mapping else None
        return query_constant(kind, value) if kind else value

    def comparison_query(self, field: Field, op: str, value: Any) -> Callable[[Mapping[str, Any]], bool]:
        name, path = field.name, field.path
        if value is None:
            if op == "==":  # Elasticsearch: must_not exists
                return lambda event: not self.values(name, path, event)
            return lambda event: False
        constant = self.constant_for(field, value)
        if op == "==":
            return self.field_test(field, lambda v: _same(v, constant))
        order = _ORDER[op]
        return self.field_test(field, lambda v: _ordered(v, constant, order))

    def match_query(self, field: Field, node: Match) -> Callable[[Mapping[str, Any]], bool]:
        name, path = field.name, field.path
        patterns = [p.value for p in node.patterns]
        wants_missing = None in patterns
        matchers: list[Automaton | Glob]
        if node.op.startswith("regex"):
            matchers = [self.regex(node)]
        else:
            matchers = [_wildcard(node.op, str(p)) for p in patterns if p is not None]

        def test(event: Mapping[str, Any]) -> bool:
            values = self.values(name, path, event)
            if wants_missing and not values:
                return True
            return any(isinstance(v, str) and m.matches(v) for v in values for m in matchers)

        return test

    def in_query(self, field: Field, node: InSet) -> Callable[[Mapping[str, Any]], bool]:
        constants = [v.value for v in node.values if isinstance(v, Literal) and v.value is not None]
        if node.insensitive:
            terms = [exact(c, True) for c in constants if isinstance(c, str)]
            others = [self.constant_for(field, c) for c in constants if not isinstance(c, str)]
            return self.field_test(
                field,
                lambda v: (
                    (isinstance(v, str) and any(t.matches(v) for t in terms))
                    or any(_same(v, c) for c in others)
                ),
            )
        converted = [self.constant_for(field, c) for c in constants]
        return self.field_test(field, lambda v: any(_same(v, c) for c in converted))

    def function_query(
        self, field: Field, name: str, rest: list[Expr], insensitive: bool
    ) -> Callable[[Mapping[str, Any]], bool]:
        if name == "cidrmatch":
            networks = [parse_cidr(str(arg.value)) for arg in rest if isinstance(arg, Literal)]

            def in_networks(value: Any) -> bool:
                # A string from _source, or an address a mapped ip field already parsed; nothing else.
                address = (
                    to_ip(value)
                    if isinstance(value, str)
                    else value
                    if isinstance(value, IPv6Address)
                    else None
                )
                return address is not None and any(address in net for net in networks)

            return self.field_test(field, in_networks)
        argument = rest[0]
        assert isinstance(argument, Literal) and isinstance(argument.value, str)
        text = argument.value
        if name == "startswith":
            glob = prefix(text, insensitive)
        elif name == "endswith":
            glob = lucene_wildcard("*" + text, insensitive)
        else:
            glob = lucene_wildcard("*" + text + "*", insensitive)
        return self.field_test(field, lambda v: isinstance(v, str) and glob.matches(v))

    def regex(self, node: Match) -> Automaton:
        """The automaton of a ``regex``/``regex~`` node's patterns, ORed into one as Elasticsearch does."""
        joined = "|".join(str(p.value) for p in node.patterns)
        try:
            return compile_lucene_regex(joined, node.op.endswith("~"))
        except RegexError as error:
            # The verifier has refused what Lucene's parser refuses; what is left is the size.
            start, end = node.patterns[0].span[0], node.patterns[-1].span[1]
            raise EqlUnsupportedError(
                f"regular expression: {error.message}",
                source=self.query.source,
                offset=start,
                width=end - start,
            ) from error

    # -- script path --------------------------------------------------------------

    def script(self, node: Expr, fields: list[Field], event: Mapping[str, Any]) -> bool:
        choices = [self.values(f.name, f.path, event) or [None] for f in fields]
        for combination in itertools.product(*choices):
            env = {id(f): value for f, value in zip(fields, combination, strict=True)}
            if self.value(node, env) is True:
                return True
        return False

    def value(self, node: Expr, env: dict[int, Any]) -> Any:
        match node:
            case Literal(value=value):
                return value
            case Field():
                return env[id(node)]
            case FunctionCall(name=name, args=args, insensitive=insensitive):
                canonical = FUNCTIONS[name.lower()].name
                values = [self.value(a, env) for a in args]
                if canonical in ARITHMETIC_FUNCTIONS:
                    return arithmetic_value(ARITHMETIC_FUNCTIONS[canonical], *values, int32=java_int(node))
                return call(canonical, values, insensitive)
            case Arithmetic(op=op, left=left, right=right):
                a, b = self.value(left, env), self.value(right, env)
                return arithmetic_value(op, a, b, int32=java_int(node))
            case Negate(operand=operand):
                v = self.value(operand, env)
                return negate(v, int32=java_int(node)) if _numeric(v) else None
            case Comparison(op=op, left=left, right=right):
                return self.script_comparison(op, self.value(left, env), self.value(right, env), left, right)
            case Match(op=op, subject=subject, patterns=patterns):
                return self.script_match(op, self.value(subject, env), [p.value for p in patterns])
            case InSet(subject=subject, values=values, insensitive=insensitive, negated=negated):
                result = self.script_in(
                    self.value(subject, env), [self.value(v, env) for v in values], insensitive
                )
                return None if result is None else result != negated
            case Not(operand=operand):
                inner = self.value(operand, env)
                return None if inner is None else not inner
            case And(operands=operands):
                results = [self.value(o, env) for o in operands]
                return False if False in results else None if None in results else True
            case Or(operands=operands):
                results = [self.value(o, env) for o in operands]
                return True if True in results else None if None in results else False
        raise TypeError(f"evaluator has no rule for {node!r}")

    @staticmethod
    def script_comparison(op: str, a: Any, b: Any, left: Expr, right: Expr) -> Any:
        if (isinstance(right, Literal) and b is None) or (isinstance(left, Literal) and a is None):
            # `expr == null` is rewritten to IsNull(expr), `!=` to its negation.
            other = a if isinstance(right, Literal) and b is None else b
            if op == "==":
                return other is None
            if op == "!=":
                return other is not None
            return None
        if a is None or b is None:
            return None
        order = compare(a, b)
        if order is None:
            return None
        if op == "==":
            return order == 0
        if op == "!=":
            return order != 0
        return _ORDER[op](order)

    @staticmethod
    def script_match(op: str, subject: Any, patterns: list[Any]) -> Any:
        if subject is None:
            return True if op == ":" and None in patterns else None
        if not isinstance(subject, str):
            return None
        if op.startswith("regex"):
            # Checked when the evaluator was built (`regex`), so this compiles or is cached.
            automaton = compile_lucene_regex("|".join(str(p) for p in patterns), op.endswith("~"))
            return automaton.matches(subject)
        return any(_wildcard(op, p).matches(subject) for p in patterns if p is not None)

    @staticmethod
    def script_in(subject: Any, candidates: list[Any], insensitive: bool) -> Any:
        if subject is None:
            return None
        for candidate in candidates:
            if candidate is None:
                continue
            if insensitive and isinstance(subject, str) and isinstance(candidate, str):
                if exact(candidate, True).matches(subject):
                    return True
            elif compare(subject, candidate) == 0:
                return True
        return False


def _query_function(node: FunctionCall) -> bool:
    """startsWith/endsWith/stringContains(field, "constant") and cidrMatch(field, ...) become queries."""
    name = node.name.lower()
    if name == "cidrmatch":
        return True
    return (
        name in ("startswith", "endswith", "stringcontains")
        and len(node.args) == 2
        and isinstance(node.args[1], Literal)
        and isinstance(node.args[1].value, str)
    )


def _wildcard(op: str, pattern: str) -> Glob:
    # A `:`/`like` pattern with no * or ? is a term query; as a wildcard it means the same.
    return eql_wildcard(pattern, op != "like")


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(value: Any, constant: Any) -> bool:
    """Term equality between an indexed value and a query constant of the same family."""
    if isinstance(value, bool) or isinstance(constant, bool):
        return isinstance(value, bool) and isinstance(constant, bool) and value == constant
    if isinstance(value, str) or isinstance(constant, str):
        return isinstance(value, str) and isinstance(constant, str) and value == constant
    return bool(value == constant)


def _ordered(value: Any, constant: Any, order: Callable[[int], bool]) -> bool:
    """Range semantics: strings by code point (UTF-8 byte order), numbers numerically."""
    if isinstance(value, bool) or isinstance(constant, bool):
        return False
    if isinstance(value, str) != isinstance(constant, str):
        return False
    try:
        return order((value > constant) - (value < constant))
    except TypeError:
        return False


def _fields(node: Expr) -> list[Field]:
    return [n for n in walk(node) if isinstance(n, Field)]

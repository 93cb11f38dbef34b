"""Checks a parsed query the way Elasticsearch's EQL verifier does, before any event is seen.

Unknown functions, wrong argument counts or types, ``:`` on numbers, comparisons
between two fields, invalid regular expressions and CIDR blocks are query errors in
Elasticsearch; here they are :class:`EqlSemanticError` with the position to fix.
"""

from __future__ import annotations

import difflib

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
    Span,
    walk,
)
from harness.eql.functions import ARITHMETIC_FUNCTIONS, FUNCTIONS, Signature, parse_cidr
from harness.eql.lucene_regex import RegexError, lucene_to_python
from harness.eql.mapping import FieldMapping, coerce, field_type
from harness.errors import EqlSemanticError, EqlUnsupportedError

__all__ = ["verify"]

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_MAPPED_KIND = {
    "keyword": "string",
    "constant_keyword": "string",
    "wildcard": "string",
    "text": "string",
    "match_only_text": "string",
    "long": "integer",
    "integer": "integer",
    "short": "integer",
    "byte": "integer",
    "unsigned_long": "integer",
    "double": "number",
    "float": "number",
    "half_float": "number",
    "scaled_float": "number",
    "boolean": "boolean",
    "ip": "ip",
    "date": "date",
}
_ACCEPTS = {
    "string": {"string"},
    "number": {"number", "integer"},
    "integer": {"integer"},
    "boolean": {"boolean"},
    "ip": {"ip"},
}


def verify(query: Query, *, mapping: FieldMapping | None = None) -> None:
    """Raise :class:`EqlSemanticError` for the first problem Elasticsearch would report."""
    _Verifier(query.source, mapping).run(query.condition)


class _Verifier:
    def __init__(self, source: str, mapping: FieldMapping | None) -> None:
        self.source = source
        self.mapping = mapping

    def error(self, message: str, span: Span, hint: str | None = None) -> EqlSemanticError:
        return EqlSemanticError(
            message, source=self.source, offset=span[0], width=span[1] - span[0], hint=hint
        )

    def text(self, node: Expr) -> str:
        start, end = node.span
        return self.source[start:end] if end > start else type(node).__name__

    def run(self, condition: Expr) -> None:
        self.check(condition)
        kind = self.kind(condition)
        if kind not in ("boolean", "any", "null"):
            raise self.error(f"Condition expression needs to be boolean, found [{kind}]", condition.span)

    # -- types --------------------------------------------------------------------

    def kind(self, node: Expr) -> str:
        """string, integer, number, boolean, ip, date, null or any (a field of unknown type)."""
        match node:
            case Literal(value=value):
                if value is None:
                    return "null"
                if isinstance(value, bool):
                    return "boolean"
                if isinstance(value, int):
                    return "integer"
                return "number" if isinstance(value, float) else "string"
            case Field():
                mapped = field_type(self.mapping, node.name)
                return _MAPPED_KIND.get(mapped, "any") if mapped else "any"
            case FunctionCall():
                signature = FUNCTIONS.get(node.name.lower())
                if signature is not None and signature.name in ARITHMETIC_FUNCTIONS:
                    return self.arithmetic_kind(node.args)
                return signature.returns if signature else "any"
            case Arithmetic(left=left, right=right):
                return self.arithmetic_kind((left, right))
            case Negate(operand=operand):
                return self.arithmetic_kind((operand,))
        return "boolean"

    def arithmetic_kind(self, operands: tuple[Expr, ...]) -> str:
        """``BinaryArithmeticOperation.dataType``: ``DataTypeConverter.commonType`` of the operands.

        Integers stay integers (int, widened to long), anything rational makes a double,
        null takes the other side's type; a field of unknown type leaves it unknown.
        """
        kinds = {self.kind(operand) for operand in operands} - {"null"}
        if "any" in kinds:
            return "any"
        if not kinds:
            return "null"
        return "integer" if kinds == {"integer"} else "number"

    def require(self, node: Expr, expected: str, what: str, hint: str | None = None) -> None:
        found = self.kind(node)
        if expected == "any" or found in ("any", "null") or found in _ACCEPTS[expected]:
            return
        shown = {"integer": "integer", "number": "double", "string": "keyword"}.get(found, found)
        message = f"{what} must be [{expected}], found value [{self.text(node)}] type [{shown}]"
        raise self.error(message + (f"; {hint}" if hint else ""), node.span)

    # -- walk ---------------------------------------------------------------------

    def check(self, node: Expr) -> None:
        match node:
            case Literal():
                return
            case Field():
                self.check_field(node)
            case FunctionCall():
                self.check_function(node)
            case Arithmetic(left=left, right=right):
                for side in (left, right):
                    self.check(side)
                    self.require(side, "number", f"argument of [{node.op}]")
            case Negate(operand=operand):
                self.check(operand)
                self.require(operand, "number", "argument of [-]")
            case Comparison(left=left, right=right):
                self.check(left)
                self.check(right)
                self.no_field_pair(left, right, node.op)
                self.check_constant_for_field(left, right)
                self.check_constant_for_field(right, left)
            case Match():
                self.check_match(node)
            case InSet(subject=subject, values=values):
                self.check(subject)
                for index, value in enumerate(values):
                    self.check(value)
                    self.no_field_pair(subject, value, "in~" if node.insensitive else "in", whole=node)
                    self.check_list_type(node, index + 1, value)
                    self.check_constant_for_field(subject, value)
            case Not(operand=operand):
                self.check(operand)
            case And(operands=operands) | Or(operands=operands):
                for operand in operands:
                    self.check(operand)
            case _:
                raise TypeError(f"verifier has no rule for {node!r}")

    def check_field(self, node: Field) -> None:
        if self.mapping is None or node.optional or self.mapping.type_of(node.name) is not None:
            return
        raise self.error(
            f"Unknown column [{node.name}]",
            node.span,
            hint=f"no index of the mapping has this field; if some sources lack it, write ?{node.name}",
        )

    def no_field_pair(self, left: Expr, right: Expr, op: str, whole: Expr | None = None) -> None:
        if _has_field(left) and _has_field(right):
            where = self.text(whole) if whole is not None else op
            offender = f"offender [{self.text(right)}] in [{where}]"
            raise self.error(
                f"Comparisons against fields are not (currently) supported; {offender}", right.span
            )

    def check_constant_for_field(self, field: Expr, constant: Expr) -> None:
        """A constant the field's mapped type cannot hold fails the search in Elasticsearch."""
        if not (isinstance(field, Field) and isinstance(constant, Literal) and self.mapping):
            return  # without a mapping, an unmapped @timestamp fails when the search runs
        mapped = self.mapping.type_of(field.name)
        if mapped is None or constant.value is None or mapped in ("keyword", "wildcard", "constant_keyword"):
            return
        if coerce(mapped, constant.value) is None:
            # Elasticsearch fails the search when the shard parses the constant (a date with
            # the field's format, strict_date_optional_time||epoch_millis); no event can pass.
            hint = (
                "a date is ISO 8601 (2017-08-30T20:47:33Z) or epoch milliseconds"
                if mapped == "date"
                else None
            )
            raise self.error(
                f"[{self.text(constant)}] is not a valid value for the {mapped} field [{field.name}]",
                constant.span,
                hint,
            )

    def check_list_type(self, node: InSet, position: int, value: Expr) -> None:
        """Every ``in`` value must be compatible with the subject's type (ql ``In.resolveType``)."""
        subject, found = self.kind(node.subject), self.kind(value)
        if "any" in (subject, found) or "null" in (subject, found):
            return
        families = {"integer": "number", "number": "number"}
        if families.get(subject, subject) == families.get(found, found):
            return
        expected = self.es_type(node.subject)
        shown = self.es_type(value)
        ordinal = _ORDINALS[min(position, 9)]
        message = f"{ordinal} argument of [{self.text(node)}] must be [{expected}]"
        raise self.error(f"{message}, found value [{self.text(value)}] type [{shown}]", value.span)

    def es_type(self, node: Expr) -> str:
        if isinstance(node, Field) and self.mapping and self.mapping.type_of(node.name):
            return str(self.mapping.type_of(node.name))
        kind = self.kind(node)
        return {"integer": "integer", "number": "double", "string": "keyword"}.get(kind, kind)

    def check_match(self, node: Match) -> None:
        self.check(node.subject)
        hint = "consider using [==] instead" if node.op == ":" else None
        self.require(node.subject, "string", f"first argument of [{node.op}]", hint)
        for pattern in node.patterns:
            if pattern.value is None and node.op == ":":
                continue
            self.require(pattern, "string", f"second argument of [{node.op}]", hint)
            if pattern.value is None:
                raise self.error(
                    f"second argument of [{node.op}] must be [string], found [null]", pattern.span
                )
        if node.op.startswith("regex"):
            joined = "|".join(str(p.value) for p in node.patterns)  # Elasticsearch ORs them into one
            try:
                lucene_to_python(joined, node.op.endswith("~"))
            except RegexError as error:
                first = node.patterns[0].span
                span = (first[0], node.patterns[-1].span[1])
                if error.unsupported:
                    raise EqlUnsupportedError(
                        f"regular expression: {error.message}",
                        source=self.source,
                        offset=span[0],
                        width=span[1] - span[0],
                    ) from error
                raise self.error(f"invalid regular expression: {error.message}", span) from error

    def check_function(self, node: FunctionCall) -> None:
        signature = FUNCTIONS.get(node.name.lower())
        name_span = (node.span[0], node.span[0] + len(node.name))
        if signature is None:
            guesses = difflib.get_close_matches(node.name.lower(), list(FUNCTIONS), n=1)
            hint = f"did you mean [{FUNCTIONS[guesses[0]].name}]?" if guesses else None
            names = ", ".join(sig.name for sig in FUNCTIONS.values())
            raise self.error(f"Unknown function [{node.name}]", name_span, hint=hint or f"EQL has: {names}")
        if node.insensitive and not signature.insensitive:
            raise self.error(
                f"function [{signature.name}] has no case-insensitive variant",
                name_span,
                hint=f"write {signature.name}(...) without ~",
            )
        if not signature.accepts_count(len(node.args)):
            raise self.error(
                f"error building [{signature.name}]: expects {signature.expected_count()} arguments,"
                f" found {len(node.args)}",
                node.span,
            )
        for index, arg in enumerate(node.args):
            self.check(arg)
            what = f"{_ORDINALS[min(index, 9)]} argument of [{self.text(node)}]"
            self.require(arg, signature.arg_type(index), what)
        self.check_constant_arguments(signature, node)

    def check_constant_arguments(self, signature: Signature, node: FunctionCall) -> None:
        if signature.name == "cidrMatch":
            for arg in node.args[1:]:
                if not isinstance(arg, Literal) or not isinstance(arg.value, str):
                    raise self.error(
                        f"{_ORDINALS[1]} argument of [{self.text(node)}] must be a constant, received "
                        f"[{self.text(arg)}]",
                        arg.span,
                    )
                try:
                    parse_cidr(arg.value)
                except ValueError as error:
                    raise self.error(f"invalid CIDR block [{arg.value}]: {error}", arg.span) from error
        if signature.name == "between" and len(node.args) == 4 and not isinstance(node.args[3], Literal):
            raise self.error("fourth argument of [between] must be a constant boolean", node.args[3].span)
        if signature.name == "number" and len(node.args) == 2 and not isinstance(node.args[1], Literal):
            raise self.error("second argument of [number] must be a constant integer", node.args[1].span)


def _has_field(node: Expr) -> bool:
    return any(isinstance(n, Field) for n in walk(node))

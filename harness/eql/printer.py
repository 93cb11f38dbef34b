"""Prints a syntax tree back as normalized EQL that parses to the same tree."""

from __future__ import annotations

import re

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
    Value,
)
from harness.eql.lexer import KEYWORDS

__all__ = ["format_expr", "format_literal", "format_query"]

_IDENT = re.compile(r"[A-Za-z_@][A-Za-z0-9_]*\Z")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Binding strength: a child printed where a stronger one is required gets parentheses.
# `:`, like, regex and in bind to a primary (EqlBase.g4: primaryExpression predicate?),
# so they print at the unary level and their subject must be a primary.
_OR, _AND, _NOT, _PREDICATE, _ADD, _MUL, _UNARY, _PRIMARY = range(1, 9)


def format_query(query: Query) -> str:
    category = "any" if query.category is None else _category(query.category)
    return f"{category} where {format_expr(query.condition)}"


def format_expr(node: Expr, required: int = _OR) -> str:
    text, strength = _format(node)
    return f"({text})" if strength < required else text


def format_literal(value: Value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return '"' + "".join(_escape(ch) for ch in value) + '"'
    return repr(value)


def _format(node: Expr) -> tuple[str, int]:
    match node:
        case Literal(value=value):
            # A negative number is written with a unary minus, which binds looser than a primary.
            negative = (
                isinstance(value, (int, float)) and not isinstance(value, bool) and str(value)[0] == "-"
            )
            return format_literal(value), _UNARY if negative else _PRIMARY
        case Field():
            return ("?" if node.optional else "") + _field_name(node.path), _PRIMARY
        case FunctionCall(name=name, args=args, insensitive=insensitive):
            inner = ", ".join(format_expr(arg) for arg in args)
            return f"{name}{'~' if insensitive else ''}({inner})", _PRIMARY
        case Negate(operand=operand):
            return "-" + format_expr(operand, _PRIMARY), _UNARY
        case Arithmetic(op=op, left=left, right=right):
            level = _ADD if op in "+-" else _MUL
            return f"{format_expr(left, level)} {op} {format_expr(right, level + 1)}", level
        case Comparison(op=op, left=left, right=right):
            return f"{format_expr(left, _ADD)} {op} {format_expr(right, _ADD)}", _PREDICATE
        case Match(op=op, subject=subject, patterns=patterns):
            if len(patterns) == 1:
                rhs = format_literal(patterns[0].value)
            else:
                rhs = "(" + ", ".join(format_literal(p.value) for p in patterns) + ")"
            return f"{format_expr(subject, _PRIMARY)} {op} {rhs}", _UNARY
        case InSet(subject=subject, values=values, insensitive=insensitive, negated=negated):
            op = ("not in" if negated else "in") + ("~" if insensitive else "")
            items = ", ".join(format_expr(v) for v in values)
            return f"{format_expr(subject, _PRIMARY)} {op} ({items})", _UNARY
        case Not(operand=operand):
            return "not " + format_expr(operand, _NOT), _NOT
        case And(operands=operands):
            return " and ".join(format_expr(o, _NOT) for o in operands), _AND
        case Or(operands=operands):
            return " or ".join(format_expr(o, _AND) for o in operands), _OR
    raise TypeError(f"cannot print node {node!r}")


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\u{{{ord(ch):02X}}}"
    return ch


def _field_name(path: tuple[str, ...]) -> str:
    if all(_IDENT.match(part) and part not in KEYWORDS for part in path):
        return ".".join(path)
    return "`" + ".".join(path).replace("`", "``") + "`"


def _category(name: str) -> str:
    if _IDENT.match(name) and name not in KEYWORDS:
        return name
    return format_literal(name)

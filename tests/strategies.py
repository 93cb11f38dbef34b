"""Hypothesis strategies for EQL syntax trees and query text, shared by the property tests."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from harness.eql import (
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
)
from harness.eql.lexer import KEYWORDS

_IDENT_START = string.ascii_letters + "_@"
_IDENT_REST = string.ascii_letters + "_" + string.digits

identifiers = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(_IDENT_START),
    st.text(_IDENT_REST, max_size=8),
).filter(lambda name: name not in KEYWORDS)

field_segments = st.one_of(
    identifiers,
    st.sampled_from(sorted(KEYWORDS)),
    st.text(st.characters(exclude_characters=".", exclude_categories=["Cs"]), min_size=1, max_size=6),
)

literals = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
).map(Literal)

fields = st.builds(
    lambda path, optional: Field(tuple(path), optional),
    st.lists(field_segments, min_size=1, max_size=4),
    st.booleans(),
)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    numeric_free = children.filter(
        lambda node: not (isinstance(node, Literal) and isinstance(node.value, (int, float)))
    )
    return st.one_of(
        st.builds(FunctionCall, identifiers, st.lists(children, max_size=3).map(tuple), st.booleans()),
        st.builds(Arithmetic, st.sampled_from("+-*/%"), children, children),
        st.builds(Negate, numeric_free),
        st.builds(Comparison, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), children, children),
        st.builds(
            Match,
            st.sampled_from([":", "like", "like~", "regex", "regex~"]),
            children,
            st.lists(literals, min_size=1, max_size=3).map(tuple),
        ),
        st.builds(
            InSet,
            children,
            st.lists(children, min_size=1, max_size=3).map(tuple),
            st.booleans(),
            st.booleans(),
        ),
        st.builds(Not, children),
        st.builds(And, st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(children, min_size=2, max_size=3).map(tuple)),
    )


expressions: st.SearchStrategy[Expr] = st.recursive(st.one_of(literals, fields), _extend, max_leaves=12)

# Fragments that real queries are made of, for fuzzing the lexer and parser deeper than random text.
query_tokens = st.sampled_from(
    [
        "process",
        "any",
        "where",
        "and",
        "or",
        "not",
        "in",
        "in~",
        "like",
        "like~",
        "regex",
        "regex~",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        ":",
        "=",
        "(",
        ")",
        ",",
        ".",
        "?",
        "~",
        "+",
        "-",
        "*",
        "/",
        "%",
        "|",
        "[",
        "]",
        "process.name",
        "process.args",
        "?process.pe.original_file_name",
        "event.type",
        '"appcmd.exe"',
        '"/text*"',
        '"a\\\\b"',
        '"\\u{41}"',
        '"""raw\\"""',
        "'single'",
        "42",
        "-1",
        "1.5",
        "1e3",
        "true",
        "false",
        "null",
        "length",
        "startsWith~",
        "concat",
        "between",
        "cidrMatch",
        "number",
        "substring",
        "indexOf",
        "sequence",
        "descendant of",
        "`odd name`",
        "/*",
        "*/",
        "//",
        '"[a-z]+"',
        '"<1-10>"',
        '"~x"',
        "\n",
        " ",
    ]
)
query_soup = st.lists(query_tokens, max_size=25).map(" ".join)

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
    MaxSpan,
    Negate,
    Not,
    Or,
    Pipe,
    Piped,
    Query,
    Sample,
    Sequence,
    Stage,
    Statement,
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

# A grammar of well-typed conditions over a fixed set of fields, covering every operator and
# function: the differential tests and the derivation's property tests draw from it.
FIELDS = ["process.name", "process.args", "?process.pid", "process.ip"]
PATTERNS = ['"list"', '"/text*"', '"*exe"', '"a\\\\b"', '"x?y"', '"*"', '""', '"é"', '"LIST"', '"/TEXT:*"']
REGEXES = ['"l.st"', '"[a-z]+"', '"/text:.*"', '".*exe"', '"a\\\\\\\\b"', '"<1-50>"', '"(LIST|list)"']


def _predicate(field: str, draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 17))
    pattern = draw(st.sampled_from(PATTERNS))
    if kind == 0:
        return f"{field} == {pattern}"
    if kind == 1:
        return f"{field} : {pattern}"
    if kind == 2:
        return f"{field} : ({pattern}, {draw(st.sampled_from(PATTERNS))})"
    if kind == 3:
        return f"{field} {draw(st.sampled_from(['like', 'like~']))} {pattern}"
    if kind == 4:
        return f"{field} {draw(st.sampled_from(['regex', 'regex~']))} {draw(st.sampled_from(REGEXES))}"
    if kind == 5:
        op = draw(st.sampled_from(["in", "in~", "not in", "not in~"]))
        return f"{field} {op} ({pattern}, {draw(st.sampled_from(PATTERNS))})"
    if kind == 6:
        bound = draw(st.sampled_from(["10", "-1", "2.5", '"m"']))
        return f"{field} {draw(st.sampled_from(['<', '<=', '>', '>=']))} {bound}"
    if kind == 7:
        constant = draw(st.sampled_from(["null", "42", "true", "0.5"]))
        return f"{field} {draw(st.sampled_from(['==', '!=']))} {constant}"
    if kind == 8:
        function = draw(st.sampled_from(["startsWith", "endsWith", "stringContains"]))
        return f"{function}{draw(st.sampled_from(['', '~']))}({field}, {pattern})"
    if kind == 9:
        return f"length({field}) {draw(st.sampled_from(['>', '==', '<']))} {draw(st.integers(0, 8))}"
    if kind == 10:
        return f'concat({field}, "x") == "listx"'
    if kind == 11:
        return f'between{draw(st.sampled_from(["", "~"]))}({field}, "/", ":") == "text"'
    if kind == 12:
        op = draw(st.sampled_from([">", "==", "!="]))
        return f'indexOf{draw(st.sampled_from(["", "~"]))}({field}, "t") {op} 2'
    if kind == 13:
        return f'substring({field}, {draw(st.integers(-3, 3))}) == "st"'
    if kind == 14:
        return f'string({field}) == "42"'
    if kind == 15:
        return f"number({field}) {draw(st.sampled_from(['>', '==']))} 41"
    if kind == 16:
        return f'cidrMatch({field}, "10.0.0.0/8", "2001:db8::/32")'
    return f"{field} {draw(st.sampled_from(['+', '*', '-', '%', '/']))} 2 > 3"


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        return _predicate(draw(st.sampled_from(FIELDS)), draw)
    left, right = draw(conditions(depth + 1)), draw(conditions(depth + 1))
    glue = draw(st.sampled_from(["and", "or"]))
    text = f"({left}) {glue} ({right})"
    return f"not ({text})" if draw(st.booleans()) else text


def statements(conditions: st.SearchStrategy[Expr]) -> st.SearchStrategy[Statement]:
    """Statement trees as the grammar builds them (unchecked: key counts and limits vary).

    >>> statements(expressions).example()  # doctest: +SKIP
    Sequence(stages=(Stage(query=Query(category='a', condition=Literal(value=True)), ...), ...)
    """
    queries = st.builds(Query, st.one_of(st.none(), identifiers, st.text(min_size=1, max_size=6)), conditions)
    keys = st.lists(fields, max_size=3).map(tuple)

    def stages(*, sequence: bool) -> st.SearchStrategy[Stage]:
        runs = st.one_of(st.none(), st.integers(0, 200), st.floats(0, 10)) if sequence else st.none()
        return st.builds(Stage, queries, keys, runs, st.booleans() if sequence else st.just(False))

    maxspans = st.builds(
        MaxSpan,
        st.one_of(st.integers(0, 10**6), st.floats(0, 1000)),
        st.sampled_from([None, "ms", "s", "m", "h", "d", "w", "M"]),
    )
    sequences = st.builds(
        Sequence,
        st.lists(stages(sequence=True), min_size=1, max_size=4).map(tuple),
        keys,
        st.one_of(st.none(), maxspans),
        st.one_of(st.none(), stages(sequence=True)),
    )
    samples = st.builds(Sample, st.lists(stages(sequence=False), min_size=1, max_size=4).map(tuple), keys)
    pipes = st.builds(Pipe, st.sampled_from(["head", "tail"]), st.lists(conditions, max_size=2).map(tuple))
    bare = st.one_of(queries, sequences, samples)
    piped = st.builds(Piped, bare, st.lists(pipes, min_size=1, max_size=3).map(tuple))
    return st.one_of(bare, piped)

"""The parser builds exactly the tree a person would write by hand."""

from __future__ import annotations

import pytest

from harness.eql import (
    And,
    Arithmetic,
    Comparison,
    Field,
    FunctionCall,
    InSet,
    Literal,
    Match,
    Negate,
    Not,
    Or,
    Query,
    parse_query,
)
from harness.eql.parser import parse_query as parse_grammar

V214 = """process where host.os.type == "windows" and event.type == "start" and
   (process.name : "appcmd.exe" or ?process.pe.original_file_name == "appcmd.exe") and
   process.args : "list" and process.args : "/text*"
"""


def f(name: str, optional: bool = False) -> Field:
    return Field(tuple(name.split(".")), optional)


def test_rule_v214_tree() -> None:
    expected = Query(
        "process",
        And(
            (
                Comparison("==", f("host.os.type"), Literal("windows")),
                Comparison("==", f("event.type"), Literal("start")),
                Or(
                    (
                        Match(":", f("process.name"), (Literal("appcmd.exe"),)),
                        Comparison(
                            "==", f("process.pe.original_file_name", optional=True), Literal("appcmd.exe")
                        ),
                    )
                ),
                Match(":", f("process.args"), (Literal("list"),)),
                Match(":", f("process.args"), (Literal("/text*"),)),
            )
        ),
    )
    assert parse_query(V214) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            "a == 1 or b == 2 and c == 3",
            Or(
                (
                    Comparison("==", f("a"), Literal(1)),
                    And((Comparison("==", f("b"), Literal(2)), Comparison("==", f("c"), Literal(3)))),
                )
            ),
        ),
        (
            "not a == 1 and b == 2",
            And((Not(Comparison("==", f("a"), Literal(1))), Comparison("==", f("b"), Literal(2)))),
        ),
        ("not not a == 1", Not(Not(Comparison("==", f("a"), Literal(1))))),
        (
            "(a == 1 or b == 2) and c == 3",
            And(
                (
                    Or((Comparison("==", f("a"), Literal(1)), Comparison("==", f("b"), Literal(2)))),
                    Comparison("==", f("c"), Literal(3)),
                )
            ),
        ),
        (
            "a + 2 * 3 > 4",
            Comparison(">", Arithmetic("+", f("a"), Arithmetic("*", Literal(2), Literal(3))), Literal(4)),
        ),
        (
            "a - 1 - 2 == 0",
            Comparison("==", Arithmetic("-", Arithmetic("-", f("a"), Literal(1)), Literal(2)), Literal(0)),
        ),
        ("a == -1", Comparison("==", f("a"), Literal(-1))),
        ("-a == 1", Comparison("==", Negate(f("a")), Literal(1))),
        ("a == 1.5e3", Comparison("==", f("a"), Literal(1500.0))),
        ('a : ("x", "y*")', Match(":", f("a"), (Literal("x"), Literal("y*")))),
        ('a like~ "x*"', Match("like~", f("a"), (Literal("x*"),))),
        ('a regex ("x.*", "y")', Match("regex", f("a"), (Literal("x.*"), Literal("y")))),
        ('a in ("x", 1, null)', InSet(f("a"), (Literal("x"), Literal(1), Literal(None)))),
        ('a not in~ ("x")', InSet(f("a"), (Literal("x"),), insensitive=True, negated=True)),
        ('startsWith~(a, "x")', FunctionCall("startsWith", (f("a"), Literal("x")), insensitive=True)),
        (
            "length(concat(a, b)) >= 3",
            Comparison(">=", FunctionCall("length", (FunctionCall("concat", (f("a"), f("b"))),)), Literal(3)),
        ),
        ("`odd name`.x == true", Comparison("==", Field(("odd name", "x")), Literal(True))),
        ('"process.name" == a', Comparison("==", Literal("process.name"), f("a"))),
        ("event.category == null", Comparison("==", f("event.category"), Literal(None))),
        ("a != false", Comparison("!=", f("a"), Literal(False))),
        ('a : """C:\\Windows\\*"""', Match(":", f("a"), (Literal("C:\\Windows\\*"),))),
        ('a == "tab\\there \\u{1F600}"', Comparison("==", f("a"), Literal("tab\there \U0001f600"))),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_condition_tree(condition: str, expected: object) -> None:
    assert parse_query(f"any where {condition}").condition == expected


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("process where true", "process"),
        ("any where true", None),
        ('"my category" where true', "my category"),
        ("event where true", "event"),
    ],
)
def test_category(text: str, category: str | None) -> None:
    assert parse_query(text).category == category


def test_comments_are_ignored() -> None:
    text = "process where /* block */ a == 1 // trailing\n and b == 2"
    assert parse_query(text) == parse_query("process where a == 1 and b == 2")


def test_spans_point_at_the_source() -> None:
    query = parse_query('process where process.name : "x"')
    match = query.condition
    assert isinstance(match, Match)
    start, end = match.subject.span
    assert query.source[start:end] == "process.name"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('a == "\\b\\f\\\'"', Comparison("==", f("a"), Literal("\b\f'"))),
        ('startsWith (a, "x")', FunctionCall("startsWith", (f("a"), Literal("x")))),
        ('STARTSWITH(a, "x")', FunctionCall("STARTSWITH", (f("a"), Literal("x")))),
        ("/* a /* nested */ comment */ a == 1", Comparison("==", f("a"), Literal(1))),
        ("event.category == 1", Comparison("==", f("event.category"), Literal(1))),
        ("`event`.`sequence` == 1", Comparison("==", f("event.sequence"), Literal(1))),
        ("@timestamp > 1", Comparison(">", f("@timestamp"), Literal(1))),
        # Elasticsearch's grammar: `in`, `:`, like and regex bind to a primary, not to a sum.
        ("a + b in (1)", Arithmetic("+", f("a"), InSet(f("b"), (Literal(1),)))),
        ('a : "x" == true', Comparison("==", Match(":", f("a"), (Literal("x"),)), Literal(True))),
        ("-a in (1)", Negate(InSet(f("a"), (Literal(1),)))),
        ("(-1) in (1)", InSet(Literal(-1), (Literal(1),))),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_grammar_details(condition: str, expected: object) -> None:
    assert parse_grammar(f"any where {condition}").condition == expected

"""Printing a tree and parsing the text back gives the same tree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.eql import Expr, Query, Statement, format_query, parse_query, parse_statement
from harness.eql.parser import parse_query as parse_grammar
from harness.eql.statements import parse_statement as parse_statement_grammar

from strategies import expressions, statements

RULES = [
    'process where host.os.type == "windows" and event.type == "start" and\n'
    '   (process.name : "appcmd.exe" or ?process.pe.original_file_name == "appcmd.exe") and\n'
    '   process.args : "list" and process.args : "/text*"',
    'process where process.args : ("/text:*password*", "/config") or process.args == "/text:*"',
    'any where not (a.b in~ ("x", "y") or length(c) > -3 * (2 + 4)) and e != null',
    'network where cidrMatch(source.ip, "10.0.0.0/8", "::1") and `odd name`.x regex~ """a\\d+"""',
]


@given(expressions, st.one_of(st.none(), st.text(min_size=1, max_size=8)))
@settings(max_examples=400)
def test_print_then_parse_gives_the_same_tree(condition: Expr, category: str | None) -> None:
    query = Query(category, condition)
    text = format_query(query)
    assert parse_grammar(text) == query, text


@given(statements(expressions))
@settings(max_examples=300)
def test_statements_print_then_parse_to_the_same_tree(statement: Statement) -> None:
    text = format_query(statement)
    assert parse_statement_grammar(text) == statement, text


SEQUENCE_RULES = [
    "/* why */ sequence by host.id, user.name with maxspan=1m\n"
    '  [process where process.name : "cmd.exe"] by process.entity_id\n'
    "  ![file where true] by process.parent.entity_id\n"
    "  [network where true] by process.entity_id with runs=2\n"
    'until [process where event.type == "end"] by process.entity_id',
    "sample by host.id [process where true] [network where true] | head 3 | tail 1",
]


def test_sequence_rules_round_trip() -> None:
    for text in SEQUENCE_RULES:
        statement = parse_statement(text)
        assert parse_statement(str(statement)) == statement
        assert str(parse_statement(str(statement))) == str(statement)


def test_rules_round_trip() -> None:
    for text in RULES:
        query = parse_query(text)
        assert parse_query(str(query)) == query


def test_normalized_text_is_stable() -> None:
    for text in RULES:
        once = str(parse_query(text))
        assert str(parse_query(once)) == once

"""The parser at its edges: comments before multi-event queries, deep nesting, huge literals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.eql import compile_query, parse_query
from harness.eql.ast import Comparison, Field, Literal
from harness.eql.matcher import ENGINES
from harness.eql.optimizer import optimize
from harness.eql.parser import MAX_DEPTH
from harness.eql.parser import parse_query as parse_grammar
from harness.errors import EqlSyntaxError, EqlUnsupportedError
from harness.rules import load_rule

SHARED_RULES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rules" / "elastic"


def test_comment_before_sequence_names_the_sequence() -> None:
    with pytest.raises(EqlUnsupportedError) as caught:
        parse_query("/* first */\n// second\n  sequence with maxspan=1m [a where true] [b where true]")
    error = caught.value
    assert (error.line, error.column, error.width) == (3, 3, len("sequence"))
    assert "sequences are not supported" in error.message


@pytest.mark.skipif(not SHARED_RULES.is_dir(), reason="needs ../shared/data/rules/elastic")
def test_shared_rule_with_leading_comment_is_a_sequence() -> None:
    rule = load_rule(SHARED_RULES / "windows/lateral_movement_rdp_sharprdp_target.toml")
    with pytest.raises(EqlUnsupportedError) as caught:
        parse_query(rule.query)
    assert rule.query[caught.value.offset :].startswith("sequence")


SHAPES: dict[str, Callable[[int], str]] = {
    "parentheses": lambda n: "(" * n + "process.pid == 1" + ")" * n,
    "not": lambda n: "not " * n + "process.pid == 1",
    "minus": lambda n: "- " * n + "process.pid == 1",
    "calls": lambda n: "add(" * n + "process.pid" + ", 1)" * n + " > 0",
    "arithmetic": lambda n: "process.pid" + " + 1" * n + " > 0",
    "boolean": lambda n: "(process.pid == 1 or " * n + "process.pid == 2" + ")" * n,
}


def _too_deep(condition: str) -> bool:
    try:
        parse_grammar("any where " + condition)
    except EqlSyntaxError as error:
        assert "nested too deeply" in error.message, error
        return True
    return False


def _deepest(shape: str) -> str:
    """The deepest query of this shape the parser accepts."""
    build = SHAPES[shape]
    low, high = 1, 4 * MAX_DEPTH
    assert not _too_deep(build(low)) and _too_deep(build(high))
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _too_deep(build(middle)) else (middle, high)
    return "any where " + build(low)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_deepest_accepted_query_runs_everywhere(shape: str) -> None:
    text = _deepest(shape)
    query = parse_query(text)
    assert parse_query(str(query)) == query  # the printer, and its output parsed again
    assert repr(query) and hash(query.condition) is not None
    optimize(query.condition)
    for engine in ENGINES:
        matcher = compile_query(text, engine=engine)
        for event in ({"process": {"pid": 1}}, {"process": {"pid": 2}}, {}):
            matcher.matches(event)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_deeper_is_a_syntax_error(shape: str) -> None:
    with pytest.raises(EqlSyntaxError, match="nested too deeply"):
        parse_query("any where " + SHAPES[shape](500))


def test_real_rules_nest_far_less_than_the_limit() -> None:
    # The deepest shared rule nests 13 levels; 109 parentheses overflowed the old parser.
    assert MAX_DEPTH >= 100
    with pytest.raises(EqlSyntaxError, match="nested too deeply"):
        parse_query("any where " + SHAPES["parentheses"](109))


def test_integer_beyond_long_is_a_double() -> None:
    # ExpressionBuilder.visitIntegerLiteral: Long.parseLong fails, Double.parseDouble reads it.
    query = parse_query("any where process.pid == 99999999999999999999")
    assert query.condition == Comparison("==", Field(("process", "pid")), Literal(1e20))
    assert parse_query("any where process.pid == 9223372036854775807").condition == Comparison(
        "==", Field(("process", "pid")), Literal(2**63 - 1)
    )


def test_integer_beyond_double_is_too_large() -> None:
    digits = "9" * 5000
    with pytest.raises(EqlSyntaxError, match="is too large") as caught:
        parse_query(f"any where process.pid == {digits}")
    assert (caught.value.offset, caught.value.width) == (len("any where process.pid == "), 5000)

"""The parser at its edges: comments before multi-event queries, deep nesting, huge literals."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.eql import parse_query
from harness.errors import EqlUnsupportedError
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

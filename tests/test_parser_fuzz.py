"""No input text may make the query front end raise anything but a HarnessError."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.eql import ECS, compile_query, parse_query
from harness.errors import EqlEvaluationError, HarnessError

from strategies import query_soup

EVENT = {
    "event": {"category": ["process"], "type": "start"},
    "process": {"name": "appcmd.exe", "args": ["appcmd.exe", "list", "/text:*"], "pid": 42},
    "source": {"ip": "10.1.2.3"},
}


def _parse(text: str) -> None:
    with contextlib.suppress(HarnessError):  # a HarnessError is a fine answer; anything else fails
        parse_query(text)


@given(st.text(max_size=80))
@settings(max_examples=1500)
def test_any_text_parses_or_raises_a_harness_error(text: str) -> None:
    _parse(text)


@given(query_soup)
@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
def test_token_soup_parses_or_raises_a_harness_error(text: str) -> None:
    _parse(text)
    _parse("process where " + text)


@given(query_soup, st.booleans())
@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
def test_whatever_compiles_also_evaluates(text: str, with_mapping: bool) -> None:
    try:
        matcher = compile_query("process where " + text, mapping=ECS if with_mapping else None)
    except HarnessError:
        return
    try:
        assert matcher.matches(EVENT) in (True, False)
        assert matcher.matches({}) in (True, False)
    except EqlEvaluationError:
        pass  # Elasticsearch would fail the search too (division by zero, overflow)

"""The search API's surface: entry points, arguments, result shapes (semantics: the conformance cases)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.eql import Found, SearchResult, compile_query, compile_statement, parse_statement, search
from harness.errors import EqlUnsupportedError

PROCESS: dict[str, Any] = {"@timestamp": 2, "event": {"category": "process"}, "host": {"id": "h"}}
FILE: dict[str, Any] = {"@timestamp": 3, "event": {"category": "file"}, "host": {"id": "h"}}
EARLY: dict[str, Any] = {"@timestamp": 1, "event": {"category": "process"}, "host": {"id": "h"}}
SEQUENCE = "sequence by host.id [process where true] [file where true]"


def test_matcher_search_sorts_event_query_hits() -> None:
    result = compile_query("process where true").search([PROCESS, FILE, EARLY])
    assert result == SearchResult(events=(EARLY, PROCESS))


def test_compile_statement_finds_sequences_with_their_keys() -> None:
    result = compile_statement(SEQUENCE).search([FILE, PROCESS, EARLY])
    assert result.sequences == (Found(events=(PROCESS, FILE), join_keys=("h",)),)
    assert result.kind == "sequences"
    assert result.events == ()


def test_search_takes_text_or_a_parsed_statement() -> None:
    assert search(SEQUENCE, [PROCESS, FILE]) == search(parse_statement(SEQUENCE), [PROCESS, FILE])


def test_samples_are_reported_as_samples() -> None:
    result = search("sample by host.id [process where true] [file where true]", [FILE, PROCESS])
    assert result.kind == "samples"
    assert result.sequences == (Found(events=(PROCESS, FILE), join_keys=("h",)),)


def test_a_missing_event_stage_holds_none() -> None:
    query = "sequence by host.id with maxspan=1m [process where true] ![network where true] [file where true]"
    (found,) = search(query, [PROCESS, FILE]).sequences
    assert found.events == (PROCESS, None, FILE)


def test_a_custom_timestamp_field() -> None:
    late = {"t": 1, "event": {"category": "file"}, "host": {"id": "h"}}
    early = {"t": 0, "event": {"category": "process"}, "host": {"id": "h"}}
    assert len(search(SEQUENCE, [late, early], timestamp_field="t").sequences) == 1


@pytest.mark.parametrize("size", [-1, 1.5, True])
def test_size_must_be_a_non_negative_integer(size: Any) -> None:
    with pytest.raises(ValueError, match="size must be a non-negative integer"):
        search(SEQUENCE, [], size=size)


def test_matches_stays_single_event() -> None:
    matcher = compile_query(SEQUENCE)
    assert not matcher.single_event
    with pytest.raises(EqlUnsupportedError, match=r"matches\(\) judges one event at a time, and seq"):
        matcher.matches(PROCESS)
    with pytest.raises(EqlUnsupportedError, match="line 1, column 1"):
        matcher.filter([PROCESS])
    assert len(matcher.search([PROCESS, FILE]).sequences) == 1


def test_compile_query_searches_events_in_elasticsearchs_order() -> None:
    matcher = compile_query("process where true | tail 1", engine="compiled")
    late, early = dict(PROCESS, **{"@timestamp": 9}), dict(PROCESS, **{"@timestamp": 1})
    assert matcher.search([late, early]).events == (late,)

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


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_max_samples_per_key_must_be_a_positive_integer(count: Any) -> None:
    # EqlSearchRequest.validate: "max_samples_per_key must be greater than 0".
    with pytest.raises(ValueError, match="max_samples_per_key must be greater than 0"):
        search(SEQUENCE, [], max_samples_per_key=count)


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


def _events() -> list[dict[str, Any]]:
    names = ["a", "b", "stop", "a", "b", "b", "a", "x", "b"]
    return [
        {
            "@timestamp": at,
            "event": {"category": "process"},
            "host": {"id": f"h{at % 2}"},
            "process": {"name": name},
        }
        for at, name in enumerate(names)
    ]


@pytest.mark.parametrize(
    "statement",
    [
        'sequence by host.id [process where process.name == "a"] [process where process.name == "b"]'
        ' until [process where process.name == "stop"]',
        'sequence with maxspan=1h [process where process.name == "a"] ![process where process.name == "x"]'
        ' [process where process.name == "b"]',
        'sample by host.id [process where process.name == "a"] [process where process.name == "b"]',
        'process where process.name == "b" | head 2',
    ],
    ids=["until", "missing", "sample", "piped"],
)
def test_a_search_given_where_each_query_matches_finds_what_it_finds_alone(statement: str) -> None:
    events = _events()
    searcher = compile_statement(statement, engine="compiled")
    # Each query's places found apart, by the reference evaluator: a caller that judged them itself.
    matched = [
        [at for at, event in enumerate(events) if compile_query(str(q)).matches(event)]
        for q in searcher.queries
    ]
    alone = searcher.search(events, size=100)
    assert alone.sequences or alone.events  # why: each statement finds something here
    assert searcher.search(events, size=100, matched=matched) == alone
    # why: the places are the search's whole input: a stage given none matches nothing
    emptied = searcher.search(events, size=100, matched=[[] for _ in matched])
    assert not emptied.sequences and not emptied.events
    with pytest.raises(ValueError, match="lists of places"):
        searcher.search(events, matched=matched[:-1])

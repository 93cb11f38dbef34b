"""Runs the search cases in tests/conformance/sequences*.toml: one test per case.

A case is a list of events (each with an ``id``, not read by any query), a statement, the
search options (``size``, ``tiebreaker``) and what the EQL search API returns: ``expected``,
the sequences or samples as lists of event ids in stage order (``"!"`` where a missing event
stands), or ``expected_events`` for an event query; ``keys`` optionally pins each sequence's
join keys. ``why`` cites the Elasticsearch class or documentation section that decides it.
A case may name one of its file's ``[datasets]`` (``dataset = "name"``) instead of listing
``events``, when the documentation runs several queries over one data set. A case may set
``max_samples_per_key`` (the EQL search API's, default 1).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.eql import parse_statement, search
from harness.eql.search import SEARCH_ENGINES

CASE_FILES = sorted((Path(__file__).parent / "conformance").glob("sequences*.toml"))
MISSING = "!"


@dataclass(frozen=True)
class SearchCase:
    id: str
    query: str
    events: list[dict[str, Any]]
    why: str
    expected: list[list[str]] | None
    expected_events: list[str] | None
    keys: list[list[Any]] | None
    size: int
    tiebreaker: str | None
    max_samples_per_key: int


def _events(raw: dict[str, Any], datasets: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The case's own events, or the shared data set it names (never both)."""
    if "dataset" in raw:
        assert "events" not in raw, f"{raw['id']}: give events or a dataset, not both"
        return datasets[raw["dataset"]]
    events: list[dict[str, Any]] = raw["events"]
    return events


def _load() -> list[SearchCase]:
    cases = []
    for path in CASE_FILES:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        datasets = document.get("datasets", {})
        for raw in document.get("search", []):
            cases.append(
                SearchCase(
                    id=raw["id"],
                    query=raw["query"],
                    events=_events(raw, datasets),
                    why=raw["why"],
                    expected=raw.get("expected"),
                    expected_events=raw.get("expected_events"),
                    keys=raw.get("keys"),
                    size=raw.get("size", 10),
                    tiebreaker=raw.get("tiebreaker"),
                    max_samples_per_key=raw.get("max_samples_per_key", 1),
                )
            )
    return cases


CASES = _load()


def test_enough_cases() -> None:
    assert len(CASES) >= 40


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_every_case_states_one_outcome_and_why() -> None:
    for case in CASES:
        assert (case.expected is None) != (case.expected_events is None), case.id
        assert case.why.strip(), case.id


def test_event_ids_are_unique_per_case() -> None:
    for case in CASES:
        ids = [event["id"] for event in case.events]
        assert len(ids) == len(set(ids)), case.id


def _id(event: Any) -> str:
    return MISSING if event is None else str(event["id"])


@pytest.mark.parametrize("engine", SEARCH_ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_search(case: SearchCase, engine: str) -> None:
    statement = parse_statement(case.query)
    result = search(
        statement,
        case.events,
        size=case.size,
        tiebreaker_field=case.tiebreaker,
        engine=engine,
        max_samples_per_key=case.max_samples_per_key,
    )
    context = f"query: {case.query}\ntree: {statement!r}\nwhy: {case.why}"
    if case.expected_events is not None:
        assert [_id(event) for event in result.events] == case.expected_events, context
        assert result.sequences == ()
        return
    assert [[_id(event) for event in found.events] for found in result.sequences] == case.expected, context
    assert result.events == ()
    if case.keys is not None:
        assert [list(found.join_keys) for found in result.sequences] == case.keys, context

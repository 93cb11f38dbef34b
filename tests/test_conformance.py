"""Runs the conformance cases in tests/conformance/*.toml: one test per case.

A case is a query, an event (JSON text), and either the expected verdict
(``expected = true|false``) or the error the query must raise
(``error = "EqlSyntaxError"`` ...). ``mapping = "ecs"`` compiles with the bundled ECS
field types (types, ``ignore_above: 1024``). ``why`` says which rule of
Elasticsearch's semantics the case pins.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import harness.errors
from harness.eql import ECS, compile_query, parse_query

CASES_DIR = Path(__file__).parent / "conformance"


@dataclass(frozen=True)
class Case:
    id: str
    query: str
    event: dict[str, Any]
    expected: bool | None
    error: str | None
    mapping: str | None
    why: str


def _load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for raw in data.get("case", []):
            cases.append(
                Case(
                    id=f"{path.stem}:{raw['id']}",
                    query=raw["query"],
                    event=json.loads(raw.get("event", "{}")),
                    expected=raw.get("expected"),
                    error=raw.get("error"),
                    mapping=raw.get("mapping"),
                    why=raw["why"],
                )
            )
    return cases


CASES = _load_cases()


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_case_states_one_outcome() -> None:
    bad = [c.id for c in CASES if (c.expected is None) == (c.error is None)]
    assert not bad, f"cases need exactly one of expected/error: {bad}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_conformance(case: Case) -> None:
    mapping = ECS if case.mapping == "ecs" else None
    if case.error is not None:
        error_class = getattr(harness.errors, case.error, None)
        assert error_class is not None, f"unknown error class {case.error}"
        with pytest.raises(error_class):
            compile_query(case.query, mapping=mapping).matches(case.event)
        return
    matcher = compile_query(case.query, mapping=mapping)
    verdict = matcher.matches(case.event)
    tree = parse_query(case.query, mapping=mapping).condition
    assert verdict is case.expected, (
        f"\nwhy:   {case.why}\nquery: {case.query}\ntree:  {tree!r}\nevent: {json.dumps(case.event)}"
    )

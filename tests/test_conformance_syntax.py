"""Runs the syntax cases in tests/conformance/sequences_syntax.toml: one test per case.

A case is a statement (sequence, sample, pipes) and either the normalized text it prints
as (``printed``; the printed text must parse back to the same tree) or the error it raises
(``error``, exactly that class, at ``at = [line, column]``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

import harness.errors
from harness.eql import ECS, parse_statement

SYNTAX_FILE = Path(__file__).parent / "conformance" / "sequences_syntax.toml"


@dataclass(frozen=True)
class SyntaxCase:
    id: str
    query: str
    printed: str | None
    error: str | None
    at: tuple[int, int] | None
    mapping: str | None
    why: str


def _load() -> list[SyntaxCase]:
    data = tomllib.loads(SYNTAX_FILE.read_text(encoding="utf-8"))
    return [
        SyntaxCase(
            id=raw["id"],
            query=raw["query"],
            printed=raw.get("printed"),
            error=raw.get("error"),
            at=(raw["at"][0], raw["at"][1]) if "at" in raw else None,
            mapping=raw.get("mapping"),
            why=raw["why"],
        )
        for raw in data["syntax"]
    ]


CASES = _load()


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_every_case_states_one_outcome() -> None:
    bad = [c.id for c in CASES if (c.printed is None) == (c.error is None) or (c.error and not c.at)]
    assert not bad, f"cases need printed, or error with at: {bad}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_syntax(case: SyntaxCase) -> None:
    mapping = ECS if case.mapping == "ecs" else None
    if case.error is not None:
        error_class = getattr(harness.errors, case.error)
        with pytest.raises(error_class) as caught:
            parse_statement(case.query, mapping=mapping)
        assert type(caught.value) is error_class, str(caught.value)
        assert (caught.value.line, caught.value.column) == case.at, str(caught.value)
        return
    tree = parse_statement(case.query, mapping=mapping)
    assert str(tree) == case.printed, repr(tree)
    assert parse_statement(str(tree), mapping=mapping) == tree, repr(tree)

"""Mutants of sequences, samples and piped statements: each parses, prints back and says where it changed."""

from __future__ import annotations

import pytest

from harness.eql import compile_statement, parse_statement
from harness.mutation import OPERATORS, generate_mutants
from harness.rules import load_rule

from shared_rules import ELASTIC_RULES, multi_event_rules

SEQUENCE = (
    'sequence by host.id with maxspan=1m [process where process.name : "a*"] by user.id '
    '[file where file.name == "b"] by user.name until [process where true] by user.id'
)


def changes(text: str) -> set[tuple[str, str, int | None]]:
    return {(m.operator, m.description, m.stage) for m in generate_mutants(text).mutants}


def test_a_sequence_gets_condition_mutants_in_each_stage_and_its_own() -> None:
    assert changes(SEQUENCE) == {
        ("match-to-equals", 'stage 1: ":" to "==" in process.name : "a*"', 1),
        ("drop-wildcard", 'stage 1: drop the * at 1 of "a*" in process.name : "a*"', 1),
        ("negate", 'stage 1: negate process.name : "a*"', 1),
        ("equals-to-match", 'stage 2: "==" to ":" in file.name == "b"', 2),
        ("upper-case", 'stage 2: upper-case "b" in file.name == "b"', 2),
        ("negate", 'stage 2: negate file.name == "b"', 2),
        ("swap-stages", "swap stages 1 and 2", None),
        ("drop-key", "drop join key host.id", None),
        ("drop-stage-key", "drop each stage's join key user.id, user.name", None),
        ("halve-maxspan", "maxspan to 30s", None),
        ("double-maxspan", "maxspan to 2m", None),
        ("drop-maxspan", "drop with maxspan", None),
        ("drop-until", "drop until", None),
    }


def test_the_mutants_print_the_change_and_nothing_else() -> None:
    by_operator = {m.operator: m.query for m in generate_mutants(SEQUENCE).mutants}
    assert by_operator["drop-stage-key"] == (
        'sequence by host.id with maxspan=1m [process where process.name : "a*"] '
        '[file where file.name == "b"] until [process where true]'
    )
    assert by_operator["swap-stages"] == (
        'sequence by host.id with maxspan=1m [file where file.name == "b"] by user.name '
        '[process where process.name : "a*"] by user.id until [process where true] by user.id'
    )


def test_a_stage_is_dropped_only_while_two_positive_stages_remain() -> None:
    three = "sequence [process where a == 1] [process where b == 1] ![file where c == 1] [file where d == 1]"
    dropped = {
        m.description for m in generate_mutants(three.replace("sequence", "sequence with maxspan=5m")).mutants
    }
    assert {"drop stage 1", "drop stage 2", "drop stage 4"} <= dropped
    two = "sequence with maxspan=5m [process where a == 1] ![file where c == 1] [file where d == 1]"
    operators = {m.operator for m in generate_mutants(two).mutants}
    assert "drop-stage" not in operators
    assert {"drop-missing", "missing-to-positive"} <= operators


def test_removing_the_maxspan_a_missing_event_needs_is_not_a_query() -> None:
    # The syntax reference (Missing events): with maxspan is mandatory with missing events.
    two = "sequence with maxspan=5m [process where a == 1] ![file where c == 1] [file where d == 1]"
    generated = generate_mutants(two)
    assert "drop-maxspan" not in {m.operator for m in generated.mutants}
    assert generated.invalid == 1


@pytest.mark.parametrize(
    ("span", "halved", "doubled"),
    [("1m", "30s", "2m"), ("3s", "1500ms", "6s"), ("1ms", None, "2ms"), ("12h", "6h", "1d")],
)
def test_maxspan_is_halved_and_doubled_in_the_unit_that_divides_it(
    span: str, halved: str | None, doubled: str
) -> None:
    text = f"sequence with maxspan={span} [process where a == 1] [process where b == 1]"
    found = {m.operator: m.description for m in generate_mutants(text).mutants}
    assert found.get("halve-maxspan") == (None if halved is None else f"maxspan to {halved}")
    assert found["double-maxspan"] == f"maxspan to {doubled}"


def test_runs_move_by_one_within_what_elasticsearch_takes() -> None:
    # The syntax reference (with runs): the value must be between 1 and 100.
    text = "sequence [process where a == 1] with runs=100 [process where b == 1]"
    generated = generate_mutants(text)
    assert [(m.operator, m.description) for m in generated.mutants if m.operator.startswith("runs")] == [
        ("runs-minus-one", "stage 1: runs=100 to runs=99")
    ]
    assert generated.invalid == 1


def test_a_sample_loses_a_key_or_a_stage() -> None:
    text = "sample by host.id, user.id [process where a == 1] [file where b == 1] [network where c == 1]"
    operators = [(m.operator, m.description) for m in generate_mutants(text).mutants]
    assert ("drop-key", "drop join key host.id") in operators
    assert ("drop-key", "drop join key user.id") in operators
    assert [d for o, d in operators if o == "drop-stage"] == ["drop stage 1", "drop stage 2", "drop stage 3"]
    assert not {o for o, _ in operators} & {"halve-maxspan", "drop-until", "runs-plus-one"}


def test_a_piped_statement_keeps_its_pipes() -> None:
    mutants = generate_mutants('process where process.name == "a" | head 3').mutants
    assert mutants and all(m.query.endswith(" | head 3") for m in mutants)
    assert {m.stage for m in mutants} == {None}


def test_a_single_event_query_is_mutated_as_before() -> None:
    assert [(m.operator, m.query, m.stage) for m in generate_mutants('process where a : "x*"').mutants][
        :2
    ] == [
        ("match-to-equals", 'process where a == "x*"', None),
        ("drop-wildcard", 'process where a : "x"', None),
    ]


def test_every_operator_is_listed() -> None:
    texts = [
        SEQUENCE,
        "sequence with maxspan=5m [process where a == 1] with runs=2 ![file where c == 1] "
        "[file where d == 1] [file where e == 1]",
    ]
    used = {m.operator for text in texts for m in generate_mutants(text).mutants}
    assert used <= set(OPERATORS)
    assert {"drop-stage", "runs-plus-one", "runs-minus-one", "drop-missing", "missing-to-positive"} <= used


def _multi_event_queries() -> list[tuple[str, str]]:
    return [(path.stem, load_rule(path).query) for path in multi_event_rules()]


@pytest.mark.skipif(not ELASTIC_RULES.is_dir(), reason="Elastic's rules are not checked out here")
@pytest.mark.parametrize(
    "query",
    [q for _, q in _multi_event_queries()] if ELASTIC_RULES.is_dir() else [],
    ids=[n for n, _ in _multi_event_queries()] if ELASTIC_RULES.is_dir() else [],
)
def test_every_mutant_of_elastic_s_sequence_and_sample_rules_parses_and_prints_back(query: str) -> None:
    generated = generate_mutants(query)
    assert generated.mutants
    assert generated.original == str(parse_statement(query))
    for mutant in generated.mutants:
        statement = parse_statement(mutant.query)
        assert str(statement) == mutant.query
        assert mutant.query != generated.original
        compile_statement(mutant.query)  # what a statement's killing judge will compile
    kinds = {m.operator for m in generated.mutants}
    assert kinds & {"swap-stages", "drop-key", "drop-stage-key"}

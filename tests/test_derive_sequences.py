"""Derived chains for sequence and sample rules: witnesses the search finds, near misses it does not.

Each semantic is Elasticsearch's as ``harness/eql/sequences.py`` and ``samples.py`` model it
(``SequenceMatcher.exceedsMaxSpan`` is ``>``; ``UntilGroup``; ``TumblingWindow.doCheckMissingEvents``;
``SampleIterator``), and every check here runs the reference search itself rather than the
derivation's own verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as Seq
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from generators.chains import LINK_FIELDS, render_chain, same_actor, timed, unlinked
from generators.derive import Chain, StatementDerivation, derive_statement
from generators.derive.events import build_launch
from generators.fleet import small_fleet
from generators.model import Label
from generators.sources import SOURCES
from generators.strategies import sequence_near_misses, sequences_matching
from harness.app import prepare_rule
from harness.app.derived import derived_result, derived_suite
from harness.eql import Piped, Sample, Sequence, compile_statement, parse_statement, search
from harness.eql.fields import field_values
from harness.rules import load_rule
from harness.timestamps import epoch_ms
from harness.validation import Expectations
from harness.validation.derived import (
    NEAR_MISS,
    QUERY_SOURCE,
    WITNESS,
    DerivedCase,
    DerivedRendering,
    DerivedSuite,
    judge_derived,
)
from harness.validation.reports.derived import derived_dict, derived_markdown

ROOT = Path(__file__).resolve().parents[1]
SHARED_RULES = ROOT.parent / "shared" / "data" / "rules" / "elastic"

CHILD = (
    'sequence by host.id with maxspan=1m [process where process.name == "cmd.exe"] by process.entity_id '
    '[process where process.name == "whoami.exe"] by process.parent.entity_id'
)
UNTIL = CHILD + ' until [process where event.type == "end"] by process.entity_id'
MISSING = {
    "start": 'sequence by host.id with maxspan=1m ![process where process.name == "a.exe"] '
    '[process where process.name == "cmd.exe"] [process where process.name == "whoami.exe"]',
    "middle": 'sequence by host.id with maxspan=1m [process where process.name == "cmd.exe"] '
    '![process where process.name == "a.exe"] [process where process.name == "whoami.exe"]',
    "end": 'sequence by host.id with maxspan=1m [process where process.name == "cmd.exe"] '
    '[process where process.name == "whoami.exe"] ![process where process.name == "a.exe"]',
    "both ends": 'sequence by host.id with maxspan=1m ![process where process.name == "a.exe"] '
    '[process where process.name == "cmd.exe"] [process where process.name == "whoami.exe"] '
    '![process where process.name == "b.exe"]',
}
RUNS = 'sequence by host.id, user.name with maxspan=10s [process where process.name == "net.exe"] with runs=3'
SAMPLE = (
    'sample by host.id, process.pid [process where process.name == "rundll32.exe"] '
    "[network where destination.port == 443]"
)
HOST_ONLY = (
    'sequence by host.id [process where process.name == "cmd.exe"] '
    '[process where process.name == "whoami.exe"]'
)


def _derive(text: str) -> StatementDerivation:
    return derive_statement(parse_statement(text), name="t")


def _found(text: str, documents: Seq[dict[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """The sequences the reference search returns, each as its present events."""
    result = search(text, list(documents), size=100)
    return [[e for e in found.events if e is not None] for found in result.sequences]


def _exactly(text: str, documents: Seq[dict[str, Any]]) -> bool:
    wanted = sorted(id(d) for d in documents)
    return any(sorted(id(e) for e in found) == wanted for found in _found(text, documents))


def _near(derivation: StatementDerivation, starts: str) -> Chain:
    return next(n for n in derivation.near_misses if n.variant.startswith(starts))


def _ms(document: dict[str, Any]) -> int:
    (value,) = field_values(document, ("@timestamp",))
    found = epoch_ms(value)
    assert found is not None
    return found


def _key(document: Mapping[str, Any], name: str) -> list[Any]:
    return field_values(document, tuple(name.split(".")))


# -- witnesses and the join --------------------------------------------------------------------


def test_the_base_witness_is_found_as_exactly_its_events_joined_on_each_stages_keys() -> None:
    derivation = _derive(CHILD)
    base = derivation.witnesses[0]
    first, second = base.documents
    assert _exactly(CHILD, base.documents)
    # why: stage keys pair by position (SequenceMatcher keys a hit on the sequence's then the stage's keys)
    assert _key(first, "process.entity_id") == _key(second, "process.parent.entity_id") != []
    assert _key(first, "host.id") == _key(second, "host.id") != []
    assert _ms(first) < _ms(second) <= _ms(first) + 60_000


def test_each_source_links_the_chain_in_its_own_spelling_of_the_entity_id() -> None:
    base = _derive(CHILD).witnesses[0]
    sysmon = next(r for r in base.renderings if r.source == "sysmon-windows")
    assert sysmon.status == "alerts"
    first, second = sysmon.documents
    (guid,) = _key(first, "process.entity_id")
    assert isinstance(guid, str) and guid.startswith("{") and guid.endswith("}")  # Sysmon's ProcessGuid
    assert _key(second, "process.parent.entity_id") == [guid]
    assert _exactly(CHILD, sysmon.documents)


@pytest.mark.parametrize("source", ["security-4688", "security-4688-nocmdline", "endgame"])
def test_a_source_without_entity_ids_is_a_blind_spot_that_names_the_key(source: str) -> None:
    base = _derive(CHILD).witnesses[0]
    rendering = next(r for r in base.renderings if r.source == source)
    assert rendering.status == "blind-spot"
    assert f"{source} never writes process.entity_id" in rendering.reason
    assert unlinked(SOURCES[source], LINK_FIELDS) == ("process.entity_id", "process.parent.entity_id")


def test_a_sequence_joined_on_host_id_alone_is_judged_in_4688_too() -> None:
    base = _derive(HOST_ONLY).witnesses[0]
    rendering = next(r for r in base.renderings if r.source == "security-4688")
    assert rendering.status == "alerts"
    assert _exactly(HOST_ONLY, rendering.documents)


# -- maxspan -----------------------------------------------------------------------------------


def test_a_witness_exactly_at_the_maxspan_bound_is_found() -> None:
    # why: SequenceMatcher.exceedsMaxSpan rejects only a span strictly greater than maxspan
    derivation = _derive(CHILD)
    bound = next(w for w in derivation.witnesses if w.variant.startswith("at the maxspan bound"))
    first, last = bound.documents
    assert _ms(last) - _ms(first) == 60_000
    assert _exactly(CHILD, bound.documents)


def test_a_span_one_millisecond_past_maxspan_is_a_near_miss() -> None:
    near = _near(_derive(CHILD), "span 60001 ms")
    first, last = near.documents
    assert _ms(last) - _ms(first) == 60_001
    assert _found(CHILD, near.documents) == []


# -- until and missing events --------------------------------------------------------------------


def test_the_until_event_between_two_stages_ends_the_sequence() -> None:
    # why: UntilGroup: an until event of the key between the sequence's last event and the hit
    near = _near(_derive(UNTIL), "until event")
    first, until, second = near.documents
    assert _ms(first) < _ms(until) < _ms(second)
    assert _found(UNTIL, near.documents) == []
    assert _exactly(UNTIL, [first, second])  # without it the chain is found: the until event decides


@pytest.mark.parametrize("where", list(MISSING))
def test_a_missing_event_present_ends_the_sequence_and_absent_it_is_found(where: str) -> None:
    # why: TumblingWindow.doCheckMissingEvents (a leading or trailing one alone passes when both ends
    # are missing stages, so both are placed together there)
    text = MISSING[where]
    derivation = _derive(text)
    assert _exactly(text, derivation.witnesses[0].documents)
    near = _near(derivation, "missing event")
    present = [d for d, e in zip(near.documents, near.events, strict=True) if e.role == "missing"]
    assert present and _found(text, near.documents) == []
    rest = [d for d, e in zip(near.documents, near.events, strict=True) if e.role != "missing"]
    assert _exactly(text, rest)


# -- runs, keys, samples -------------------------------------------------------------------------


def test_runs_three_is_three_events_and_two_are_a_near_miss() -> None:
    # why: LogicalPlanBuilder writes a stage with runs=N as N stages
    derivation = _derive(RUNS)
    base = derivation.witnesses[0]
    assert len(base.documents) == 3 and _exactly(RUNS, base.documents)
    dropped = _near(derivation, "stage 1 dropped")
    assert len(dropped.documents) == 2 and _found(RUNS, dropped.documents) == []


@pytest.mark.parametrize("text", [CHILD, RUNS, SAMPLE])
def test_each_key_changed_on_one_stage_is_a_near_miss_that_differs_only_there(text: str) -> None:
    derivation = _derive(text)
    changed = [n for n in derivation.near_misses if " differs on stage " in n.variant]
    statement = parse_statement(text)
    inner = statement.query if isinstance(statement, Piped) else statement
    assert isinstance(inner, Sequence | Sample)
    assert len(changed) == len(inner.keys) + len(inner.stages[-1].keys)
    for near in changed:
        name = near.variant.split(" differs", 1)[0]
        last = near.documents[-1]
        assert _key(last, name) != _key(
            near.documents[0], near.events[0].keys[near.events[-1].keys.index(name)]
        )
        assert _found(text, near.documents) == []


def test_a_sample_is_found_without_order_and_joined_on_its_keys() -> None:
    # why: SampleIterator: one sample per key combination, stages matched by key, not by time
    derivation = _derive(SAMPLE)
    base = derivation.witnesses[0]
    assert derivation.kind == "sample"
    assert _exactly(SAMPLE, list(reversed(base.documents)))
    assert _key(base.documents[0], "process.pid") == _key(base.documents[1], "process.pid")


def test_every_near_miss_of_every_kind_is_not_found() -> None:
    for text in (CHILD, UNTIL, RUNS, SAMPLE, *MISSING.values()):
        derivation = _derive(text)
        assert derivation.witnesses, text
        for near in derivation.near_misses:
            assert _found(text, near.documents) == [], (text, near.variant)


def test_the_same_statement_derives_the_same_bytes() -> None:
    def dumped(derivation: StatementDerivation) -> bytes:
        chains = (*derivation.witnesses, *derivation.near_misses)
        return orjson.dumps([[c.id, c.variant, list(c.documents)] for c in chains])

    assert dumped(_derive(UNTIL)) == dumped(_derive(UNTIL))


def test_a_stage_nothing_satisfies_is_a_finding_and_no_chain() -> None:
    text = (
        'sequence by host.id [process where process.name == "a.exe" and process.name == "b.exe"] '
        "[process where true]"
    )
    derivation = _derive(text)
    assert derivation.witnesses == ()
    assert any(f.kind == "unsolved" and "stage 1" in f.message for f in derivation.findings)


# -- the linked-chain generator ------------------------------------------------------------------


def test_render_chain_links_launches_on_one_host_and_account_per_source() -> None:
    fleet = small_fleet()
    launches = [
        build_launch({"process.name": name}, fleet, Label("c", "benign"), i)
        for i, name in enumerate(("cmd.exe", "whoami.exe"))
    ]
    linked = timed(same_actor(launches), [0, 5], 1_767_261_600_000_000_000)
    keys = [("host.id", "user.name", "process.entity_id")] * 2
    chain = render_chain(linked, "endpoint", keys)
    first, second = chain.documents
    for name in ("host.id", "user.name", "process.entity_id"):
        assert _key(first, name) == _key(second, name) != []
    assert _ms(second) - _ms(first) == 5
    blind = render_chain(linked, "security-4688", keys)
    assert blind.documents == () and "never writes process.entity_id" in blind.reason


# -- judged through the application layer ----------------------------------------------------------


def _rule(folder: Path, query: str) -> Path:
    path = folder / "seq.toml"
    path.write_text(
        '[rule]\nname = "seq"\nlanguage = "eql"\ntype = "eql"\nversion = 1\n'
        'index = ["logs-endpoint.events.*", "logs-windows.sysmon_operational-*", "logs-system.security*"]\n'
        f"query = '''\n{query}\n'''\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_derived_suite_and_result_judge_a_sequence_rule(tmp_path: Path, engine: str) -> None:
    setup = prepare_rule(_rule(tmp_path, UNTIL))
    suite = derived_suite(setup)
    assert suite.kind == "sequence" and suite.sources[0] == QUERY_SOURCE
    result = derived_result(setup, suite, engine=engine)
    assert result.passed and result.judged > 0
    query = [o for o in result.outcomes if o.source == QUERY_SOURCE]
    assert {o.status for o in query if o.case.kind == WITNESS} == {"alerts"}
    assert {o.status for o in query if o.case.kind == NEAR_MISS} == {"silent"}
    assert any(o.blind_spot and "process.entity_id" in o.reason for o in result.outcomes)
    report = "\n".join(derived_markdown(result))
    assert "stage 1 (process) at 2026-01-01T10:01:00.000Z" in report
    case = derived_dict(result)["cases"][0]
    assert (
        case["events"][0]["keys"]["host.id"] == _key(suite.cases[0].renderings[0].documents[0], "host.id")[0]
    )


def test_a_piped_single_event_rule_is_judged_by_its_searcher(tmp_path: Path) -> None:
    setup = prepare_rule(_rule(tmp_path, 'process where process.name == "whoami.exe" | head 5'))
    result = derived_result(setup, derived_suite(setup))
    assert result.passed and result.judged > 0


def test_judge_derived_with_a_searcher_flags_a_chain_that_is_not_found_and_a_near_miss_that_is() -> None:
    derivation = _derive(HOST_ONLY)
    base = derivation.witnesses[0]
    judge = compile_statement(HOST_ONLY)
    apart = _near(derivation, "host.id differs").documents  # two hosts: no sequence
    cases = (
        DerivedCase("t/b0w0", "b0w0", WITNESS, 0, "two hosts", (DerivedRendering("q", None, "", apart),)),
        DerivedCase(
            "t/b0w0n0",
            "b0w0n0",
            NEAR_MISS,
            0,
            "the witness itself",
            (DerivedRendering("q", None, "", base.documents),),
        ),
        DerivedCase("t/b0w1", "b0w1", WITNESS, 0, "blind", (DerivedRendering("q", None, "no source"),)),
    )
    suite = DerivedSuite("t", ("q",), 1, False, cases, kind="sequence")
    result = judge_derived(judge, suite, Expectations())
    assert [(o.case.key, o.status, o.violation) for o in result.outcomes] == [
        ("b0w0", "silent", True),
        ("b0w0n0", "alerts", True),
        ("b0w1", "blind-spot", False),
    ]


# -- strategies -----------------------------------------------------------------------------------


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(sequences_matching(UNTIL))
def test_drawn_chains_are_found_in_any_order(chain: list[dict[str, Any]]) -> None:
    assert _exactly(UNTIL, chain)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(sequence_near_misses(UNTIL, source="sysmon-windows"))
def test_drawn_near_miss_chains_are_never_found(chain: list[dict[str, Any]]) -> None:
    assert _found(UNTIL, chain) == []


# -- Elastic's own sequence and sample rules -----------------------------------------------------


def _statement_rules() -> list[Path]:
    if not SHARED_RULES.is_dir():
        return []
    found = []
    for path in sorted(SHARED_RULES.rglob("*.toml")):
        statement = parse_statement(load_rule(path).query)
        inner = statement.query if isinstance(statement, Piped) else statement
        if isinstance(inner, Sequence | Sample):
            found.append(path)
    return found


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_RULES.is_dir(), reason="needs ../shared/data/rules/elastic")
@pytest.mark.parametrize("path", _statement_rules(), ids=lambda p: p.stem)
def test_elastic_rules_derive_chains_the_search_finds_and_near_misses_it_does_not(path: Path) -> None:
    query = load_rule(path).query
    derivation = derive_statement(parse_statement(query), name=path.stem)
    assert derivation.witnesses or derivation.findings, "no chain and no finding saying why"
    for witness in derivation.witnesses:
        assert _exactly(query, witness.documents), witness.variant
    for near in derivation.near_misses:
        assert _found(query, near.documents) == [], near.variant


def test_each_stages_own_near_misses_take_its_place_in_the_chain() -> None:
    query = (
        'sequence by host.id with maxspan=1m [process where process.name : "cmd.exe"] '
        '[process where process.args : "list" and process.args : "/text*"]'
    )
    derivation = derive_statement(parse_statement(query), name="t")
    labels = [near.variant for near in derivation.near_misses]
    assert any(label.startswith("stage 1: process.name") for label in labels), labels
    stage_two = [label for label in labels if label.startswith("stage 2: process.args")]
    assert len(stage_two) == 2, labels  # one per predicate of the stage
    searcher = compile_statement(query)
    for near in derivation.near_misses:
        assert not searcher.search(list(near.documents)).sequences, near.variant


def test_a_mutant_dropping_a_stage_predicate_is_killed_by_the_derived_chains() -> None:
    from harness.app import mutate

    rule = Path(__file__).resolve().parents[1] / "rules" / "iis_webshell_appcmd_sequence.toml"
    report = mutate(rule)
    dropped = next(
        r for r in report.results if r.description == 'stage 2: drop conjunct process.args : "/text*"'
    )
    assert dropped.killed_by_derived

"""The schedule of a sequence, sample or piped rule: one EQL search per execution, as Kibana runs it.

Each test pins one behaviour of Kibana's EQL executor (``rule_types/eql/``) on a corpus small
enough to work out by hand; an oracle test holds the run-length shortcut to a search of every
execution.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from harness import app
from harness.app.corpora import Corpus
from harness.cli import main
from harness.eql import compile_statement
from harness.schedule import SequenceExecution, SequenceSimulation, print_simulation, simulate_search
from harness.timestamps import to_ms
from harness.vocabulary import Profile

from shared_rules import multi_event_rules

T = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
AB = 'sequence by host.id [process where process.name == "a.exe"] [process where process.name == "b.exe"]'

OWN_SEQUENCE_RULE = Path(__file__).resolve().parents[1] / "rules" / "iis_webshell_appcmd_sequence.toml"


def event(moment: datetime, name: str, host: Any = "h1", **extra: Any) -> dict[str, Any]:
    return {
        "@timestamp": moment.isoformat().replace("+00:00", "Z"),
        "event": {"category": "process"},
        "host": {"id": host, "name": "web-01"},
        "process": {"name": name},
        **extra,
    }


def run(statement: str, documents: list[dict[str, Any]], **schedule: Any) -> SequenceSimulation:
    options: dict[str, Any] = {"interval_s": 300, "lookback_s": 540, "first_run": T + 2 * MINUTE, **schedule}
    return simulate_search(compile_statement(statement), documents, **options)


def outcomes(sim: SequenceSimulation) -> list[tuple[int, int, int, int]]:
    """(minutes after T, sequence alerts, building blocks, duplicates) of each execution finding any."""
    out = []
    for e in sim.executions.with_matches():
        assert isinstance(e, SequenceExecution)
        minutes = (e.time_ms - to_ms(T)) // 60_000
        out.append((minutes, e.alerts, e.building_block_alerts, e.duplicates))
    return out


def test_a_sequence_is_one_shell_alert_and_a_building_block_per_event() -> None:
    """``build_alert_group_from_sequence.ts``: N events make N building blocks and one shell alert
    that ties them together; ``wrap_sequences.ts`` returns the shell, then its building blocks."""
    sim = run(AB, [event(T, "a.exe"), event(T + MINUTE, "b.exe")])
    assert sim.kind == "sequences"
    assert (sim.sequence_alerts, sim.building_block_alerts, sim.events_in_alerts) == (1, 2, 2)
    assert sim.sequences_in_corpus == 1 and sim.never_alerted == 0


def test_the_same_sequence_found_again_by_an_overlapping_execution_is_not_alerted_again() -> None:
    """The shell's id hashes its events' ``_id``/``_index`` and the rule (``generateAlertId``), each
    building block's id those and its position (``generate_building_block_ids.ts``), and the rule
    registry drops ids already written (``filterDuplicateAlerts``,
    ``create_persistence_rule_type_wrapper.ts``)."""
    sim = run(AB, [event(T, "a.exe"), event(T + MINUTE, "b.exe")])
    # T+2 alerts; T+7's window [T-2, T+7] finds the same two events again: a duplicate.
    assert outcomes(sim) == [(2, 1, 2, 0), (7, 0, 0, 1)]


def test_a_new_sequence_sharing_an_event_makes_new_alerts_for_every_event() -> None:
    """``generate_building_block_ids.ts``: a building block's id depends on every event of its
    sequence, so an event in two sequences gets a building block in each. A multi-valued join key
    makes two sequences of one ``a.exe`` event (one per value, ``SortedSetDocValues``)."""
    documents = [
        event(T, "a.exe", host=["x", "y"]),
        event(T + MINUTE, "b.exe", host="x"),
        event(T + MINUTE, "b.exe", host="y"),
    ]
    sim = run(AB, documents)
    assert (sim.sequence_alerts, sim.building_block_alerts, sim.events_in_alerts) == (2, 4, 3)


def test_two_sequences_of_the_same_events_in_one_search_are_one_alert() -> None:
    """Both would get the same ids: the second ``create`` of an id in the bulk request is a 409
    conflict, not an alert (``create_persistence_rule_type_wrapper.ts`` keeps status 201 only)."""
    documents = [event(T, "a.exe", host=["x", "y"]), event(T + MINUTE, "b.exe", host=["x", "y"])]
    sim = run(AB, documents)
    assert outcomes(sim)[0] == (2, 1, 2, 1)
    assert sim.sequences_in_corpus == 2 and sim.never_alerted == 0


def test_max_signals_is_the_search_size_and_duplicates_keep_their_places() -> None:
    """``eql.ts`` makes one search of ``size: maxSignals`` (``build_eql_search_request.ts``) and does
    not page: the sequences a window's search returns are returned again by the next overlapping
    execution, so one of three is never alerted. ``hits.total >= maxSignals`` is the cap warning."""
    documents = [event(T, "a.exe", host=f"h{i}") for i in range(3)]
    documents += [event(T + MINUTE, "b.exe", host=f"h{i}") for i in range(3)]
    sim = run(AB, documents, max_signals=2)
    assert outcomes(sim) == [(2, 2, 4, 0), (7, 0, 0, 2)]
    assert sim.capped_executions == 2
    assert (sim.lost_to_cap, sim.never_alerted, sim.sequences_in_corpus) == (1, 1, 3)
    assert [e.lost_to_cap for e in sim.executions.with_matches()] == [1, 1]


def test_a_capped_search_alerts_on_the_most_recent_sequences() -> None:
    """The search has no ``result_position`` (``build_eql_search_request.ts``), so Elasticsearch's
    default ``tail`` applies (``EqlSearchRequest.java``; ``LogicalPlanBuilder`` adds ``Tail(size)``):
    of three sequences, size 2, the two that complete last come back, ordered by their last event
    (``Sequence.compareTo``)."""
    # Host h<i>: a.exe at T + 10i s, b.exe at T+1m + 10i s; h0's and h2's a.exe are malicious.
    # T+2m's window [T-7m, T+2m] holds all three and returns h1's and h2's: h0's is never alerted.
    # h2's delay runs from its last event, T+1m20s, to T+2m: 40 s.
    documents = []
    for i in range(3):
        intent = {"labels": {"intent": "benign" if i == 1 else "malicious"}}
        documents.append(event(T + timedelta(seconds=10 * i), "a.exe", host=f"h{i}", **intent))
        documents.append(event(T + MINUTE + timedelta(seconds=10 * i), "b.exe", host=f"h{i}"))
    sim = run(AB, documents, max_signals=2)
    assert outcomes(sim) == [(2, 2, 4, 0), (7, 0, 0, 2)]
    delays = sim.malicious_delays
    assert (delays.alerted, delays.missed, delays.maximum_s) == (1, 1, 40.0)
    assert (sim.lost_to_cap, sim.never_alerted) == (1, 1)


def test_a_sequence_longer_than_the_look_back_is_found_by_no_execution() -> None:
    """The search only reads documents in ``[now - from, now]`` (``buildTimeRangeFilter`` in the
    request's filter): a sequence spanning more than the look-back is in no window, though one search
    over the whole corpus, as ``harness validate`` runs it, finds it."""
    statement = AB.replace("by host.id", "by host.id with maxspan=1h")
    sim = run(statement, [event(T, "a.exe"), event(T + 20 * MINUTE, "b.exe")])
    assert (sim.sequences_in_corpus, sim.sequence_alerts, sim.never_alerted) == (1, 0, 1)


def test_a_missing_event_gets_no_building_block() -> None:
    """The search returns a missing event as an empty placeholder (``"missing": true``); Kibana
    builds building blocks only for the events present (kibana#235133, fixing kibana#168708)."""
    statement = (
        'sequence by host.id with maxspan=5m [process where process.name == "a.exe"] '
        '![process where process.name == "x.exe"] [process where process.name == "b.exe"]'
    )
    sim = run(statement, [event(T, "a.exe"), event(T + MINUTE, "b.exe")])
    assert (sim.sequence_alerts, sim.building_block_alerts) == (1, 2)
    blocked = run(
        statement,
        [event(T, "a.exe"), event(T + 30 * timedelta(seconds=1), "x.exe"), event(T + MINUTE, "b.exe")],
    )
    assert blocked.sequence_alerts == 0


def test_a_sample_is_wrapped_like_a_sequence() -> None:
    """``eql.ts`` has two branches, ``hits.events`` and ``hits.sequences``; Elasticsearch returns
    samples in ``hits.sequences`` (``execution/sample/SamplePayload`` makes each sample an
    ``EqlSearchResponse.Sequence``), so each sample is a shell alert with a building block per event."""
    statement = (
        'sample by host.id [process where process.name == "b.exe"] [process where process.name == "a.exe"]'
    )
    sim = run(statement, [event(T, "a.exe"), event(T + MINUTE, "b.exe"), event(T, "a.exe", host="h2")])
    assert sim.kind == "samples"
    assert (sim.sequence_alerts, sim.building_block_alerts) == (1, 2)
    assert outcomes(sim) == [(2, 1, 2, 0), (7, 0, 0, 1)]


def test_a_piped_event_query_alerts_on_each_hit_without_building_blocks() -> None:
    """``eql.ts``: ``hits.events`` go to ``wrapHits``, an alert per event whose id is the event's own,
    so ``| tail 1`` alerts on each window's latest match once."""
    statement = 'process where process.name == "a.exe" | tail 1'
    documents = [event(T, "a.exe"), event(T + MINUTE, "a.exe"), event(T + 4 * MINUTE, "a.exe")]
    sim = run(statement, documents)
    assert sim.kind == "events"
    # T+2: [T-7, T+2] holds the first two, tail keeps T+1; T+7: [T-2, T+7] all three, tail keeps
    # T+4, which T+12's [T+3, T+12] returns again.
    assert outcomes(sim) == [(2, 1, 0, 0), (7, 1, 0, 0), (12, 0, 0, 1)]
    assert sim.building_block_alerts == 0


def test_the_window_reads_the_timestamp_override_and_the_search_orders_by_its_own_field() -> None:
    """``build_eql_search_request.ts``: the range filter is on the primary timestamp (the override,
    else ``@timestamp``), while the search's ``timestamp_field`` orders the stages."""
    documents = [event(T, "a.exe"), event(T + MINUTE, "b.exe")]
    for document in documents:
        document["event"]["ingested"] = (T + 30 * MINUTE).isoformat()
    sim = run(AB, documents, timestamp_field="event.ingested")
    # Both arrive at T+30: the first window holding them is T+32's, which finds the sequence.
    assert outcomes(sim) == [(32, 1, 2, 0), (37, 0, 0, 1)]


def test_a_malicious_sequence_is_delayed_from_its_last_event_to_its_alert() -> None:
    labels = {"labels": {"intent": "malicious"}}
    sim = run(AB, [event(T, "a.exe", **labels), event(T + MINUTE, "b.exe")])
    assert (sim.malicious_delays.alerted, sim.malicious_delays.missed) == (1, 0)
    assert sim.malicious_delays.maximum_s == 60.0


def _brute_force(
    statement: str, documents: list[dict[str, Any]], count: int, max_signals: int
) -> Iterator[tuple[int, int, int, int]]:
    """Every execution searched on its own over every document of its window, ids as Kibana derives
    them: (sequences in the window, sequence alerts, building blocks, duplicates)."""
    searcher = compile_statement(statement)
    written: set[tuple[int, ...]] = set()
    for k in range(count):
        now = to_ms(T + 2 * MINUTE) + k * 300_000
        inside = [
            i
            for i, d in enumerate(documents)
            if now - 540_000 <= to_ms(datetime.fromisoformat(d["@timestamp"])) <= now
        ]
        window = [documents[i] for i in inside]
        every = searcher.search(window, size=10**9).sequences
        returned = searcher.search(window, size=max_signals).sequences
        place = {id(documents[i]): i for i in inside}
        alerts = blocks = 0
        for found in returned:
            identity = tuple(place[id(e)] for e in found.events if e is not None)
            if identity not in written:
                written.add(identity)
                alerts, blocks = alerts + 1, blocks + len(identity)
        yield len(every), alerts, blocks, len(returned) - alerts


ORACLE_STATEMENTS = {
    "sequence": AB.replace("by host.id", "by host.id with maxspan=3m"),
    "missing event": (
        'sequence by host.id with maxspan=3m [process where process.name == "a.exe"] '
        '![process where process.name == "c.exe"] [process where process.name == "b.exe"]'
    ),
    "sample": (
        'sample by host.id [process where process.name == "a.exe"] [process where process.name == "b.exe"]'
    ),
}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("name", list(ORACLE_STATEMENTS))
def test_every_execution_agrees_with_a_search_of_its_own_window(name: str, seed: int) -> None:
    """The run-length shortcut (a search per change of a window's documents, over the documents a
    stage matches) against a search of every document of every execution's window."""
    rng = random.Random(seed)
    hosts: list[Any] = ["x", "y", ["x", "y"]]
    documents = [
        event(
            T + timedelta(seconds=rng.randrange(0, 1800)),
            rng.choice(["a.exe", "b.exe", "c.exe", "d.exe"]),
            host=rng.choice(hosts),
        )
        for _ in range(60)
    ]
    statement = ORACLE_STATEMENTS[name]
    sim = run(statement, documents, max_signals=2)  # dense enough that most seeds hit the cap
    mine = [
        (e.matches, e.alerts, e.building_block_alerts, e.duplicates)
        for e in sim.executions
        if isinstance(e, SequenceExecution)
    ]
    assert mine == list(_brute_force(statement, documents, len(sim.executions), 2))


def test_the_report_and_json_name_sequence_and_building_block_alerts_apart() -> None:
    sim = run(AB, [event(T, "a.exe"), event(T + MINUTE, "b.exe")])
    data = sim.as_dict()
    assert (data["kind"], data["sequence_alerts"], data["building_block_alerts"]) == ("sequences", 1, 2)
    assert data["executions"][0] == {
        "time": "2026-11-02T12:02:00Z",
        "window_start": "2026-11-02T11:53:00Z",
        "window_end": "2026-11-02T12:02:00Z",
        "sequences": 1,
        "sequence_alerts": 1,
        "building_block_alerts": 2,
        "duplicates": 0,
        "lost_to_cap": 0,
        "capped": False,
    }
    console = Console(record=True, width=160)
    print_simulation(sim, console)
    text = console.export_text()
    assert "sequence alerts / building-block alerts" in text and "1 / 2" in text


def test_the_application_layer_simulates_a_sequence_rule_on_the_scenarios() -> None:
    scheduled = app.simulate(
        OWN_SEQUENCE_RULE, Corpus(profile=Profile.SCENARIOS), duplicates_take_slots=False
    )
    assert isinstance(scheduled.result, SequenceSimulation)
    assert scheduled.result.sequence_alerts >= 1
    assert scheduled.result.building_block_alerts == 2 * scheduled.result.sequence_alerts
    assert any("duplicates free no slots" in notice for notice in scheduled.notices)


@pytest.mark.parametrize("path", multi_event_rules(), ids=lambda p: p.stem)
def test_simulate_runs_every_sequence_and_sample_rule_of_elastic(path: Path) -> None:
    result = CliRunner().invoke(
        main, ["simulate", str(path), "--profile", "fleet", "--events", "3000", "--json"]
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    assert report["kind"] in ("sequences", "samples")

"""Schedule simulation: windows, the max_signals cap, de-duplication, gaps, delays and rates."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import harness
from harness.corpus import open_corpus
from harness.schedule import Simulation, event_time_ms, print_simulation, simulate, simulate_rule

from bundled import APPCMD

T = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
RULE = Path(__file__).parent.parent / "rules" / "iis_appcmd_password_dumped_v214.toml"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(moment: datetime, **extra: Any) -> dict[str, Any]:
    return {"@timestamp": iso(moment), "host": {"name": "web-01"}, **extra}


def everything(document: Mapping[str, Any]) -> bool:
    return True


def capped(documents: list[dict[str, Any]], first_run: datetime, *, slots: bool = True) -> Simulation:
    """Kibana's default schedule (every 5 minutes, looking back 9, cap 100) from ``first_run``."""
    return simulate(
        everything,
        documents,
        interval_s=300,
        lookback_s=540,
        max_signals=100,
        first_run=first_run,
        duplicates_take_slots=slots,
    )


def test_issue_case_a_cap_with_duplicates_not_taking_slots() -> None:
    # The issue's acceptance case, with an engine that reads past already-alerted events.
    sim = capped([event(T) for _ in range(250)], T + 2 * MINUTE, slots=False)
    assert [(e.time, e.alerts) for e in sim.executions] == [(T + 2 * MINUTE, 100), (T + 7 * MINUTE, 100)]
    assert sim.lost_alerts == 50
    assert sim.capped_executions == 2
    # T+12's window is [T+3, T+12]: it cannot hold T, so the simulation stops before it.
    assert sim.executions[-1].lost_to_cap == 50


def test_case_a_as_the_eql_executor_runs_it_duplicates_take_slots() -> None:
    # One EQL search of size max_signals returns the window's most recent 100: 250 events at one
    # instant are ordered by the implicit tiebreaker (document order), so the last 100 documents.
    # T+2 alerts on them; T+7's window [T-2, T+7] holds the same 250 and returns the same 100.
    labels = [{"labels": {"intent": "malicious" if i >= 150 else "benign"}} for i in range(250)]
    sim = capped([event(T, **label) for label in labels], T + 2 * MINUTE)
    assert [(e.alerts, e.duplicates, e.lost_to_cap) for e in sim.executions] == [(100, 0, 150), (0, 100, 150)]
    assert sim.lost_alerts == 150
    # The last 100 documents are the malicious ones: every one alerted, at T+2.
    assert (sim.malicious_delays.alerted, sim.malicious_delays.missed) == (100, 0)
    assert sim.malicious_delays.maximum_s == 120.0


def test_a_capped_eql_search_alerts_on_the_most_recent_matches() -> None:
    """Kibana's EQL executor sends one search per execution with ``size: max_signals`` and no
    ``result_position`` (``build_eql_search_request.ts``, elastic/kibana
    ``x-pack/solutions/security/plugins/security_solution/server/lib/detection_engine/rule_types/eql/``),
    and Elasticsearch defaults it to ``tail`` (``EqlSearchRequest.java``: ``resultPosition = "tail"``;
    with no pipe ``LogicalPlanBuilder`` adds ``Tail(size)``): a window of 150 matches, cap 100,
    alerts on its 100 most recent."""
    # Matches at T+0s .. T+149s, all malicious. T+3m's window [T-6m, T+3m] holds all 150 and
    # returns T+50s .. T+149s: 100 alerts, delays 180 - 149 = 31 s to 180 - 50 = 130 s. T+8m's
    # window [T-1m, T+8m] holds the same 150 and returns the same 100: all duplicates. No later
    # search starts earlier, so T+0s .. T+49s are lost to the cap for good; T+13m's window starts at
    # T+4m, after the last match, so the schedule ends at T+8m.
    documents = [event(T + timedelta(seconds=i), labels={"intent": "malicious"}) for i in range(150)]
    sim = capped(documents, T + 3 * MINUTE)
    assert [(e.matches, e.alerts, e.duplicates, e.lost_to_cap) for e in sim.executions] == [
        (150, 100, 0, 50),
        (150, 0, 100, 50),
    ]
    assert sim.lost_alerts == 50
    delays = sim.malicious_delays
    assert (delays.alerted, delays.missed, delays.minimum_s, delays.maximum_s) == (100, 50, 31.0, 130.0)


def test_the_earliest_matches_are_kept_when_an_earlier_window_returned_them() -> None:
    """The same 150 matches arriving in two bursts: the tail of the fuller window leaves out only
    matches an earlier, smaller window had already returned (``build_eql_search_request.ts``,
    ``EqlSearchRequest.java``)."""
    # 50 matches at T+0s .. T+49s, 100 at T+240s .. T+339s. T+1m's window [T-8m, T+1m] holds the
    # first 50: 50 alerts. T+6m's [T-3m, T+6m] holds all 150 and returns the last 100, the second
    # burst: 100 alerts, nothing lost (the first burst is alerted already). T+11m's [T+2m, T+11m]
    # holds the second burst only and returns it again: 100 duplicates. (Paging from the window's
    # start instead would give 50; 50 with 50 duplicates and 50 lost; 50 with 50 duplicates.)
    documents = [event(T + timedelta(seconds=i)) for i in range(50)]
    documents += [event(T + timedelta(seconds=240 + i)) for i in range(100)]
    sim = capped(documents, T + MINUTE)
    assert [(e.matches, e.alerts, e.duplicates, e.lost_to_cap) for e in sim.executions] == [
        (50, 50, 0, 0),
        (150, 100, 0, 0),
        (100, 0, 100, 0),
    ]
    assert sim.lost_alerts == 0


def test_issue_case_b_uncovered_minute() -> None:
    times = [T, T + 2 * MINUTE, T + 2 * MINUTE + 30 * MINUTE / 60, T + 3 * MINUTE]
    sim = simulate(
        everything,
        [event(t) for t in times],
        interval_s=300,
        lookback_s=240,
        first_run=T + 2 * MINUTE,
    )
    assert [(e.window_start, e.window_end) for e in sim.executions] == [
        (T - 2 * MINUTE, T + 2 * MINUTE),
        (T + 3 * MINUTE, T + 7 * MINUTE),
    ]
    assert [(g.start, g.end, g.events, g.matching_events) for g in sim.uncovered_gaps] == [
        (T + 2 * MINUTE, T + 3 * MINUTE, 1, 1)
    ]
    assert sim.alerts == 3
    assert sim.lost_alerts == 1  # the event at T+2m30s is never seen


@pytest.mark.parametrize(
    ("offset", "in_window"),
    [
        pytest.param(timedelta(0), True, id="exactly-at-window-start"),
        pytest.param(9 * MINUTE, True, id="exactly-at-now"),
        pytest.param(-timedelta(milliseconds=1), False, id="just-before-window-start"),
        pytest.param(9 * MINUTE + timedelta(milliseconds=1), False, id="just-after-now"),
    ],
)
def test_window_includes_both_ends(offset: timedelta, in_window: bool) -> None:
    # Kibana's range filter is gte now-from, lte now.
    probe = event(T + offset, probe=True)
    sim = simulate(
        lambda d: "probe" in d,
        [event(T - MINUTE), probe, event(T + 20 * MINUTE)],
        interval_s=300,
        lookback_s=540,
        first_run=T + 9 * MINUTE,
    )
    assert sim.executions[0].matches == (1 if in_window else 0)


def test_timestamp_override_used_when_present() -> None:
    document = event(T, event={"ingested": iso(T + MINUTE)})
    assert event_time_ms(document, "event.ingested") == event_time_ms(event(T + MINUTE))


def test_timestamp_override_falls_back_to_timestamp_when_missing() -> None:
    assert event_time_ms(event(T), "event.ingested") == event_time_ms(event(T))


def test_timestamp_override_decides_the_window() -> None:
    late = event(T - 30 * MINUTE, event={"ingested": iso(T)})  # @timestamp far outside, ingested inside
    plain = event(T - MINUTE)  # no event.ingested: @timestamp is used
    sim = simulate(
        everything,
        [late, plain],
        interval_s=300,
        lookback_s=540,
        timestamp_field="event.ingested",
        first_run=T + MINUTE,
    )
    assert sim.executions[0].alerts == 2
    assert sim.lost_alerts == 0


def test_epoch_millis_and_dotted_keys() -> None:
    millis = int(T.timestamp() * 1000)
    assert event_time_ms({"@timestamp": millis}) == millis
    assert event_time_ms({"event.ingested": iso(T)}, "event.ingested") == millis


def test_event_in_two_overlapping_windows_alerts_once() -> None:
    sim = simulate(everything, [event(T)], interval_s=300, lookback_s=540, first_run=T + MINUTE)
    assert [(e.matches, e.alerts, e.duplicates) for e in sim.executions] == [(1, 1, 0), (1, 0, 1)]
    assert sim.alerts == 1


def test_delays_for_malicious_events() -> None:
    malicious = {"labels": {"intent": "malicious"}}
    documents = [
        event(T, **malicious),  # alerted at T+2
        event(T + 4 * MINUTE, **malicious),  # alerted at T+7
        event(T + MINUTE, labels={"intent": "benign"}),
    ]
    sim = simulate(everything, documents, interval_s=300, lookback_s=540, first_run=T + 2 * MINUTE)
    delays = sim.malicious_delays
    assert (delays.alerted, delays.missed) == (2, 0)
    assert (delays.minimum_s, delays.median_s, delays.maximum_s) == (120.0, 150.0, 180.0)


def test_default_first_run_is_one_interval_after_the_earliest_event() -> None:
    sim = simulate(everything, [event(T), event(T + 20 * MINUTE)], interval_s=300, lookback_s=540)
    assert sim.executions[0].time == T + 5 * MINUTE
    assert sim.before_first_window is None
    assert sim.lost_alerts == 0


def test_events_before_the_first_window_are_reported() -> None:
    sim = simulate(
        everything,
        [event(T), event(T + 20 * MINUTE)],
        interval_s=300,
        lookback_s=540,
        first_run=T + 15 * MINUTE,
    )
    assert sim.before_first_window is not None
    assert (sim.before_first_window.events, sim.before_first_window.matching_events) == (1, 1)
    assert sim.lost_alerts == 1


def test_bad_schedule_is_rejected() -> None:
    with pytest.raises(ValueError, match="interval_s must be a whole number >= 1"):
        simulate(everything, [], interval_s=0, lookback_s=540)


@pytest.fixture(scope="module")
def fleet() -> list[dict[str, Any]]:
    return list(open_corpus(profile="fleet", events=20000, seed=3, catalogue=APPCMD))


@pytest.fixture(scope="module")
def rule() -> harness.Rule:
    return harness.load_rule(RULE)


def test_fleet_rates_follow_from_the_executions(fleet: list[dict[str, Any]], rule: harness.Rule) -> None:
    matcher = harness.compile_query(rule.query, engine="compiled")
    sim = simulate_rule(rule, matcher, fleet)
    hosts = {d["host"]["name"] for d in fleet}
    times = [event_time_ms(d) for d in fleet]
    span_days = (max(t for t in times if t is not None) - min(t for t in times if t is not None)) / 86_400_000
    alerts = sum(e.alerts for e in sim.executions)
    assert sim.hosts == len(hosts)
    assert sim.matching_events == sum(1 for d in fleet if matcher.matches(d))
    assert sim.alerts == alerts == sim.matching_events - sim.lost_alerts
    assert sim.alerts_per_1000_hosts_per_day == pytest.approx(alerts / len(hosts) / max(span_days, 1) * 1000)
    assert len(sim.executions) >= span_days * 24 * 12  # every 5 minutes across the corpus


def test_fleet_with_attacks_alerts_every_malicious_launch(rule: harness.Rule) -> None:
    from generators.corpus import iter_documents
    from generators.profiles import CorpusOptions

    documents = list(iter_documents(CorpusOptions("fleet", 20000, 3, attack_rate=3000.0, catalogue=APPCMD)))
    matcher = harness.compile_query(rule.query, engine="compiled")
    sim = simulate_rule(rule, matcher, documents)
    hosts = len({d["host"]["name"] for d in documents})
    assert sim.matching_events > 0
    assert sim.alerts == sum(e.alerts for e in sim.executions) == sim.matching_events
    assert sim.alerts_per_1000_hosts_per_day == pytest.approx(sim.alerts / sim.days / hosts * 1000)
    assert sim.malicious_delays.alerted == sum(
        1 for d in documents if matcher.matches(d) and d["labels"]["intent"] == "malicious"
    )
    assert sim.malicious_delays.maximum_s is not None and rule.interval_seconds is not None
    assert 0 <= sim.malicious_delays.maximum_s <= rule.interval_seconds  # 9m look-back covers each run's gap


def test_as_dict_is_json_and_printer_renders() -> None:
    sim = simulate(
        everything,
        [event(T) for _ in range(3)],
        interval_s=300,
        lookback_s=240,
        max_signals=2,
        first_run=T + MINUTE,
    )
    data = json.loads(json.dumps(sim.as_dict()))
    assert data["alerts"] == 2
    assert data["executions"][0]["time"] == "2026-11-02T12:01:00Z"
    console = Console(record=True, width=120)
    print_simulation(sim, console)
    assert "alerts per 1,000 hosts per day" in console.export_text()


def _cli_simulate(tmp_path: Path, *extra: str) -> dict[str, Any]:
    from click.testing import CliRunner

    from harness.cli import main

    dump = {
        "@timestamp": "2026-11-02T10:00:00.000Z",
        "event": {"category": "process", "type": "start"},
        "host": {"name": "web01", "os": {"type": "windows"}},
        "process": {"name": "appcmd.exe", "args": ["appcmd.exe", "list", "apppool", "/text:*"]},
    }
    corpus = tmp_path / "burst.ndjson"
    corpus.write_text("".join(json.dumps(dump) + "\n" for _ in range(250)), encoding="utf-8")
    rule = Path(__file__).resolve().parents[1] / "rules" / "iis_appcmd_password_dumped_v214.toml"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            str(rule),
            "--corpus",
            str(corpus),
            "--first-run",
            "2026-11-02T10:02:00Z",
            "--json",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_simulate_command_runs_the_rule_on_its_own_schedule(tmp_path: Path) -> None:
    report = _cli_simulate(tmp_path)
    assert report["schedule"] == {
        "interval_s": 300,
        "lookback_s": 540,
        "max_signals": 100,
        "timestamp_field": "@timestamp",
        "duplicates_take_slots": True,
    }
    assert [(e["time"], e["alerts"], e["duplicates"]) for e in report["executions"]] == [
        ("2026-11-02T10:02:00Z", 100, 0),
        ("2026-11-02T10:07:00Z", 0, 100),
    ]
    assert report["lost_alerts"] == 150


def test_simulate_command_can_let_duplicates_free_their_slots(tmp_path: Path) -> None:
    report = _cli_simulate(tmp_path, "--duplicates-free-slots")
    # Paging forward from the window's start past duplicates: the first 100, then the next 100.
    assert [(e["alerts"], e["duplicates"]) for e in report["executions"]] == [(100, 0), (100, 100)]
    assert report["lost_alerts"] == 50 and report["capped_executions"] == 2


def test_paging_past_duplicates_alerts_earliest_first() -> None:
    # The first run T+3m returns T+0s .. T+99s; T+8m reads past those 100 duplicates to the last 50.
    labels = {"labels": {"intent": "malicious"}}
    documents = [event(T + timedelta(seconds=i), **labels) for i in range(150)]
    sim = capped(documents, T + 3 * MINUTE, slots=False)
    assert [(e.alerts, e.duplicates, e.lost_to_cap) for e in sim.executions] == [(100, 0, 50), (50, 100, 0)]
    # Delays: 180 - 99 = 81 s to 180 s at T+3m, then 480 - 149 = 331 s to 480 - 100 = 380 s at T+8m.
    delays = sim.malicious_delays
    assert (delays.alerted, delays.minimum_s, delays.maximum_s) == (150, 81.0, 380.0)


def test_the_table_says_how_many_events_had_no_usable_timestamp(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from harness.cli import main

    corpus = tmp_path / "mixed.ndjson"
    corpus.write_text(
        json.dumps({"@timestamp": "2026-11-02T10:00:00Z", "event": {"category": "process"}})
        + "\n"
        + json.dumps({"event": {"category": "process"}})
        + "\n",
        encoding="utf-8",
    )
    rule = Path(__file__).resolve().parents[1] / "rules" / "iis_appcmd_password_dumped_v214.toml"
    result = CliRunner().invoke(main, ["simulate", str(rule), "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "events without a usable timestamp (left out)" in result.stdout

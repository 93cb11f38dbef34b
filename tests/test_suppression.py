"""Alert suppression as Kibana applies it to EQL rules: the arithmetic on crafted corpora, rule files,
the command line, a sequence rule, and the fleet (issue 17's acceptance line).

Each case's ``why`` names the Kibana source that decided the expected number.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from harness import app, report
from harness.app.corpora import Corpus
from harness.cli import main
from harness.eql import compile_statement
from harness.errors import RuleLoadError
from harness.html_report import render_html
from harness.rules import AlertSuppression, load_rule
from harness.schedule import SequenceSimulation, Simulation, print_simulation, simulate, simulate_search
from harness.schedule.suppression import (
    Candidate,
    Facet,
    Suppression,
    event_facet,
    sequence_facet,
    suppress,
)
from harness.vocabulary import Profile

RULES = Path(__file__).resolve().parents[1] / "rules"
V214 = RULES / "iis_appcmd_password_dumped_v214.toml"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOST = AlertSuppression(("host.name",))
HOST_1H = AlertSuppression(("host.name",), "1h")


def doc(seconds: int, host: str | None = "a", **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"@timestamp": (T0 + timedelta(seconds=seconds)).isoformat(), **extra}
    if host is not None:
        document["host"] = {"name": host}
    return document


# Interval and look-back 300 s, the first run one interval after the first event (T0 + 10 s): execution
# k runs at T0 + 310 + 300k over [now - 300, now]. Execution 0 holds the first four, execution 1 the
# fifth, execution 12 (T0 + 3910 s) the sixth, execution 13 (T0 + 4210 s) the seventh.
REPEATS = [doc(10), doc(20), doc(30, "b"), doc(100), doc(400), doc(3700), doc(4000)]


def run(documents: list[dict[str, Any]], settings: AlertSuppression, max_signals: int = 100) -> Suppression:
    sim = simulate(
        lambda _: True,
        documents,
        interval_s=300,
        lookback_s=300,
        max_signals=max_signals,
        suppression=settings,
    )
    assert sim.suppression is not None
    assert sim.suppression.alerts_before == sim.alerts  # every alert the schedule creates is offered
    return sim.suppression


def check_balance(result: Suppression) -> None:
    assert result.alerts_before == (
        result.alerts_after + result.suppressed_docs + result.lost_to_cap + result.already_suppressed
    )


def shape(result: Suppression) -> list[tuple[int, str | None, int]]:
    """(seconds after T0 each alert was created, its host, its docs_count)."""
    return [
        (int((a.created_ms - T0.timestamp() * 1000) // 1000), a.host, a.docs_count) for a in result.alerts
    ]


CASES = [
    pytest.param(
        HOST,
        [(310, "a", 2), (310, "b", 0), (610, "a", 0), (3910, "a", 0), (4210, "a", 0)],
        id="per-execution",
        marks=[],
    ),
    pytest.param(
        HOST_1H,
        [(310, "a", 4), (310, "b", 0), (4210, "a", 0)],
        id="within-1h",
    ),
]
WHY = {
    "per-execution": "no duration: the window is the execution's own from and only alerts of the same "
    "execution merge (executeBulkCreateAlerts, isSuppressionPerRuleExecution; alertWithSuppression's "
    "isRuleExecutionOnly): three of host a in execution 0 make one alert of docs_count 2",
    "within-1h": "with a duration an alert created at or after now - 1h takes later ones (range gte "
    "suppressionWindowStart, docs_count = existing + docs_count + 1): execution 12 at exactly 1h after "
    "execution 0 still merges (gte), execution 13 creates a new alert",
}


@pytest.mark.parametrize(("settings", "expected"), CASES)
def test_repeated_alerts_across_executions(
    settings: AlertSuppression, expected: list[tuple[int, str, int]], request: pytest.FixtureRequest
) -> None:
    why = WHY[request.node.callspec.id]
    result = run(REPEATS, settings)
    assert result.alerts_before == 7, why
    assert shape(result) == expected, why
    check_balance(result)
    hosts = {host: (before, after, docs) for host, before, after, docs in result.per_host}
    assert hosts["b"] == (1, 1, 0), why
    assert hosts["a"][0] == 6, why
    assert [before for _, before, _ in result.per_day] == [7], why  # one UTC day of executions


def test_the_earliest_event_is_kept_and_end_is_the_latest() -> None:
    why = "suppressAlertsInMemory sorts by suppression.start, keeps the first, extends end to the latest"
    result = run(REPEATS[:4], HOST)
    first = result.alerts[0]
    assert first.start_ms == int((T0 + timedelta(seconds=10)).timestamp() * 1000), why
    assert first.end_ms == int((T0 + timedelta(seconds=100)).timestamp() * 1000), why


MISSING = [doc(10), doc(20, None), doc(30, None), doc(40)]


def test_missing_fields_suppress_groups_them_as_null() -> None:
    why = "getSuppressionTerms: robustGet(...) ?? null, so events missing host.name share one bucket"
    result = run(MISSING, HOST)
    assert sorted((a.host or "", a.docs_count) for a in result.alerts) == [("", 1), ("a", 1)], why
    assert [dict(a.terms or ()) for a in result.alerts if a.host is None] == [{"host.name": None}], why
    check_balance(result)


def test_missing_fields_do_not_suppress_alerts_each_on_its_own() -> None:
    why = "doNotSuppress: partitionMissingFieldsEvents gives each event missing a field its own alert"
    result = run(MISSING, AlertSuppression(("host.name",), None, "doNotSuppress"))
    assert sorted((a.host or "", a.docs_count, a.terms is None) for a in result.alerts) == [
        ("", 0, True),
        ("", 0, True),
        ("a", 1, False),
    ], why
    check_balance(result)


def test_do_not_suppress_needs_every_field() -> None:
    why = "partitionMissingFieldsEvents: fewer picked keys than group_by fields, i.e. any one missing"
    both = AlertSuppression(("host.name", "user.name"), None, "doNotSuppress")
    documents = [doc(10, user={"name": "u"}), doc(20), doc(30)]  # the last two lack user.name
    result = run(documents, both)
    assert result.alerts_after == 3 and result.suppressed_docs == 0, why
    assert run(documents, AlertSuppression(("host.name", "user.name"))).alerts_after == 2, why


def test_arrays_in_any_order_group_together() -> None:
    why = "getSuppressionTerms sorts an array (sortBy): the same values in any order are one bucket"
    tags = AlertSuppression(("tags",))
    documents = [doc(10, tags=["x", "y"]), doc(20, tags=["y", "x"]), doc(30, tags=["x"]), doc(40, tags="x")]
    result = run(documents, tags)
    # The fields API gives every value as an array, so "x" and ["x"] are one bucket too; {x, y} another.
    assert sorted(a.docs_count for a in result.alerts) == [1, 1], why
    assert {tuple(v for _, v in a.terms or ()) for a in result.alerts} == {(("x", "y"),), (("x",),)}, why


def test_event_terms_follow_the_fields_api() -> None:
    facet = event_facet({"host": {"name": "a"}, "tags": ["b", "a"]}, ("host.name", "tags", "user.name"))
    assert facet.terms == (("host.name", ("a",)), ("tags", ("a", "b")), ("user.name", None))
    assert not facet.complete and facet.host == "a"


def candidates(now: int, starts: list[int], keys: list[str], window: int = 300) -> list[Candidate]:
    return [
        Candidate(now, now - window, start, Facet((("k", key),), True, key))
        for start, key in zip(starts, keys, strict=True)
    ]


def test_new_alerts_beyond_max_signals_are_cut() -> None:
    why = "bulkCreateWithSuppression's maxAlerts: max_signals less the alerts already created"
    result = suppress(candidates(1000, [1, 2, 3], ["a", "b", "c"]), HOST, max_signals=2)
    assert (result.alerts_after, result.lost_to_cap, result.truncated_executions) == (2, 1, 1), why
    assert [a.host for a in result.alerts] == ["a", "b"], why  # sorted by start, the first kept
    check_balance(result)


@pytest.mark.parametrize(("alerts", "truncated"), [(9, 0), (10, 1)])
def test_five_times_max_signals_of_created_and_suppressed(alerts: int, truncated: int) -> None:
    why = (
        "executeBulkCreateAlerts: alertsWereTruncated once suppressed + created >= "
        "MAX_SIGNALS_SUPPRESSION_MULTIPLIER (5) x max_signals"
    )
    result = suppress(candidates(1000, list(range(alerts)), ["a"] * alerts), HOST, max_signals=2)
    assert (result.alerts_after, result.suppressed_docs) == (1, alerts - 1), why
    assert result.truncated_executions == truncated, why


def test_a_full_cap_of_unsuppressed_alerts_leaves_no_cap() -> None:
    why = "maxAlerts is max_signals less those created; 0 is falsy, so `maxAlerts && ...` cuts nothing"
    settings = AlertSuppression(("k",), None, "doNotSuppress")
    batch = [Candidate(1000, 700, s, Facet((("k", None),), False, None)) for s in (1, 2)]
    batch.append(Candidate(1000, 700, 3, Facet((("k", "a"),), True, "a")))
    result = suppress(batch, settings, max_signals=2)
    assert result.alerts_after == 3 and result.lost_to_cap == 0, why


def test_an_alert_already_suppressed_is_dropped() -> None:
    why = (
        "alertWithSuppression drops an alert whose end is no later than the existing alert's of another "
        "execution (isExistingDateGtEqThanAlert): it was suppressed already"
    )
    first = candidates(1000, [500, 900], ["a", "a"], window=600)
    again = candidates(1300, [900, 1200], ["a", "a"], window=600)
    result = suppress([*first, *again], HOST_1H, max_signals=100)
    assert result.already_suppressed == 1, why
    assert [(a.docs_count, a.end_ms) for a in result.alerts] == [(2, 1200)], why
    check_balance(result)


SEQUENCE = 'sequence by host.name [process where process.name == "a"] [process where process.name == "b"]'


def step(seconds: int, host: str, name: str, user: str) -> dict[str, Any]:
    return doc(seconds, host, event={"category": "process"}, process={"name": name}, user={"name": user})


SEQUENCES = [
    step(10, "h1", "a", "u1"),
    step(20, "h1", "b", "u1"),  # sequence 1: user u1 on both events
    step(100, "h1", "a", "u1"),
    step(110, "h1", "b", "u2"),  # sequence 2: the users differ, so the shell has none
    step(120, "h2", "a", "u3"),
    step(130, "h2", "b", "u4"),  # sequence 3: likewise
]


@pytest.mark.parametrize(
    ("settings", "after", "docs"),
    [
        pytest.param(AlertSuppression(("host.name",)), 2, 1, id="host"),
        pytest.param(AlertSuppression(("user.name",)), 2, 1, id="user-suppress"),
        pytest.param(AlertSuppression(("user.name",), None, "doNotSuppress"), 3, 0, id="user-do-not"),
    ],
)
def test_a_sequence_rule_is_suppressed_by_its_shell_alert(
    settings: AlertSuppression, after: int, docs: int
) -> None:
    why = (
        "bulkCreateSuppressedSequencesInMemory reads the terms off the shell alert, the "
        "objectArrayIntersection of its events (build_alert_group_from_sequence.ts): a value that "
        "differs between the events is missing, null with suppress, its own alert with doNotSuppress"
    )
    sim = simulate_search(
        compile_statement(SEQUENCE), SEQUENCES, interval_s=300, lookback_s=300, suppression=settings
    )
    assert sim.sequence_alerts == 3
    assert sim.suppression is not None
    assert (sim.suppression.alerts_before, sim.suppression.alerts_after) == (3, after), why
    assert sim.suppression.suppressed_docs == docs, why
    assert sim.as_dict()["suppression"]["alerts_after"] == after


def test_shell_terms_intersect_arrays() -> None:
    events: list[dict[str, Any]] = [
        {"tags": ["x", "y", "z"], "host": {"name": "h"}},
        {"tags": ["z", "x"], "host.name": "h"},
    ]
    facet = sequence_facet(events, ("tags", "host.name"))
    assert facet.terms == (("tags", ("x", "z")), ("host.name", "h")) and facet.host == "h"


# -- rule files ------------------------------------------------------------------------------------

RULE = """[rule]
name = "r"
language = "eql"
query = "process where true"
"""


def write_rule(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "rule.toml"
    path.write_text(RULE + "\n[rule.alert_suppression]\n" + table, encoding="utf-8")
    return path


def test_rule_file_alert_suppression(tmp_path: Path) -> None:
    path = write_rule(
        tmp_path,
        'group_by = ["host.name", "user.name"]\nduration = {value = 30, unit = "m"}\n'
        'missing_fields_strategy = "doNotSuppress"\n',
    )
    rule = load_rule(path)
    assert rule.alert_suppression == AlertSuppression(("host.name", "user.name"), "30m", "doNotSuppress")
    assert rule.alert_suppression.duration_s == 1800
    assert load_rule(write_rule(tmp_path, 'group_by = ["host.name"]\n')).alert_suppression == HOST
    assert load_rule(V214).alert_suppression is None


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ("group_by = []\n", "Kibana accepts 1 to 3"),
        ('group_by = ["a", "b", "c", "d"]\n', "Kibana accepts 1 to 3"),
        ('group_by = "host.name"\n', "list of 1 to 3 field names"),
        ('group_by = ["a"]\nduration = {value = 0, unit = "m"}\n', "integer >= 1"),
        ('group_by = ["a"]\nduration = {value = 1, unit = "d"}\n', "'s', 'm' or 'h'"),
        (
            'group_by = ["a"]\nmissing_fields_strategy = "drop"\n',
            "'suppress' (the default) or 'doNotSuppress'",
        ),
        ('group_by = ["a"]\nwindow = "1h"\n', "unknown key 'window'"),
    ],
)
def test_rule_file_bad_alert_suppression(tmp_path: Path, table: str, says: str) -> None:
    path = write_rule(tmp_path, table)
    with pytest.raises(RuleLoadError) as caught:
        load_rule(path)
    assert caught.value.path == str(path) and caught.value.line == 6  # the [rule.alert_suppression] line
    assert says in str(caught.value)


# -- the command line and the fleet ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--suppress-for", "1h"], "need --suppress-by"),
        (["--suppress-by", "host.name", "--suppress-for", "1d"], "--suppress-for: duration '1d'"),
        (["--suppress-by", "a", "--suppress-by", "b", "--suppress-by", "c", "--suppress-by", "d"], "1 to 3"),
    ],
)
def test_cli_refuses_bad_suppression(args: list[str], says: str) -> None:
    result = CliRunner().invoke(main, ["simulate", str(V214), *args])
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_cli_suppression_by_host_for_1h_on_the_fleet_reports_fewer_alerts(tmp_path: Path) -> None:
    """Issue 17's acceptance line: version 214 on a fleet with repeated alerts, suppressed by host for 1h."""
    out = tmp_path / "sim.json"
    args = ["simulate", str(V214), "--profile", "fleet", "--events", "500000", "--suppress-by", "host.name"]
    result = CliRunner().invoke(main, [*args, "--suppress-for", "1h", "-o", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    supp = report["suppression"]
    assert supp["alerts_before"] == report["alerts"]
    assert supp["alerts_after"] < supp["alerts_before"]
    assert supp["alerts_before"] == supp["alerts_after"] + supp["suppressed_docs"] + supp["lost_to_cap"]
    assert sum(row["after"] for row in supp["per_host"]) == supp["alerts_after"]
    assert sum(row["before"] for row in supp["per_day"]) == supp["alerts_before"]
    assert any(row["after"] < row["before"] for row in supp["per_host"])


def simulated(settings: AlertSuppression | None) -> Simulation:
    return simulate(lambda _: True, REPEATS, interval_s=300, lookback_s=300, suppression=settings)


def test_the_text_report_shows_alerts_before_and_after_per_day_and_host() -> None:
    console = Console(record=True, width=160)
    print_simulation(simulated(HOST_1H), console)
    text = console.export_text()
    assert "Alert suppression by host.name within 1h (missing fields: suppress)" in text
    assert re.search(r"alerts before / after\s*│\s*7 / 3", text)
    assert re.search(r"2026-01-01\s*│\s*7\s*│\s*3", text)  # per day: before, after
    assert re.search(r"│ a\s*│\s*6\s*│\s*2\s*│\s*4", text)  # per host: before, after, suppressed
    plain = Console(record=True, width=160)
    print_simulation(simulated(None), plain)
    assert "suppression" not in plain.export_text()


def test_the_html_schedule_section_shows_before_and_after() -> None:
    data = report([V214], seed=0, fleet_events=2000, generated_at=None, mutations=False)
    version = data.versions[0]
    assert version.simulation is not None and version.simulation.suppression is None
    page = render_html(replace(data, versions=(replace(version, simulation=simulated(HOST_1H)),)))
    assert "by host.name within 1h, missing fields suppress" in page
    assert "<td>7 / 3</td>" in page  # alerts before / after
    assert "<tr><td>a</td><td>6</td><td>2</td><td>4</td></tr>" in page  # per host
    assert "<tr><td>2026-01-01</td><td>7</td><td>3</td></tr>" in page  # per day
    assert "<td>none</td>" in render_html(data)  # a rule without suppression says so


def test_app_simulate_takes_the_rules_own_suppression(tmp_path: Path) -> None:
    rule = tmp_path / "v214.toml"
    rule.write_text(
        V214.read_text(encoding="utf-8") + '\n[rule.alert_suppression]\ngroup_by = ["host.name"]\n',
        encoding="utf-8",
    )
    run = app.simulate(rule, Corpus(profile=Profile.FLEET, events=20_000))
    assert run.result.suppression is not None and run.result.suppression.settings == HOST
    assert any("suppressed by host.name per rule execution" in notice for notice in run.notices)


def test_app_simulate_suppresses_a_sequence_rule_and_says_from_which_version() -> None:
    run = app.simulate(
        RULES / "iis_webshell_appcmd_sequence.toml",
        Corpus(profile=Profile.FLEET, events=100_000),
        suppression=HOST,
    )
    result = run.result
    assert isinstance(result, SequenceSimulation) and result.suppression is not None
    assert result.suppression.alerts_before == result.sequence_alerts >= 1
    # The sequence's events share their host, so its shell alert keeps host.name.
    assert all(host is not None for host, *_ in result.suppression.per_host)
    assert any("from 8.18" in notice for notice in run.notices)

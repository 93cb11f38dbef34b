"""Sequence and sample rules validated and diffed on a crafted labelled corpus, each number worked by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from harness import app
from harness.rules import Rule, load_rule
from harness.validation.reports.json import result_dict

SEQUENCE = (
    'sequence by host.id with maxspan=1m [process where process.name == "a.exe"] '
    '[process where process.name == "b.exe"]'
)
INDEX = "logs-endpoint.events.process-default"


def _event(
    ms: int, host: str, name: str, *, scenario: str, intent: str, index: str = INDEX
) -> dict[str, Any]:
    return {
        "@timestamp": ms,
        "event": {"category": ["process"], "type": ["start"]},
        "host": {"id": host, "name": host},
        "process": {"name": name},
        "data_stream": {"dataset": "endpoint.events.process", "namespace": "default", "type": "logs"},
        "_index": index,
        "labels": {"scenario": scenario, "intent": intent, "source": "endpoint"},
    }


def _corpus() -> list[dict[str, Any]]:
    attack, noise = {"scenario": "chain", "intent": "malicious"}, {"scenario": "admin", "intent": "benign"}
    return [
        _event(1_000, "h1", "a.exe", **attack),
        _event(2_000, "h1", "b.exe", **attack),  # the attack's sequence
        _event(1_500, "h2", "a.exe", **noise),
        _event(30_000, "h2", "b.exe", **noise),  # a benign sequence: a false positive
        _event(3_000, "h3", "a.exe", **noise),
        _event(3_000 + 61_000, "h3", "b.exe", **noise),  # 61 s after a: outside maxspan
        _event(5_000, "h4", "a.exe", **noise, index="logs-windows.sysmon_operational-default"),
        _event(6_000, "h4", "b.exe", **noise),  # its first stage lives in an index the rule does not read
    ]


def _rule(tmp_path: Path, query: str, name: str = "seq") -> Rule:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[metadata]\n[rule]\nname = "{name}"\ntype = "eql"\nlanguage = "eql"\n'
        f'index = ["logs-endpoint.events.process-*"]\nquery = """{query}"""\n',
        encoding="utf-8",
    )
    return load_rule(path)


def test_a_sequence_rule_counts_one_alert_per_sequence(tmp_path: Path) -> None:
    validation = app.validate(_rule(tmp_path, SEQUENCE), _corpus(), derived=False)
    result = validation.result
    assert result.sequences is not None
    assert result.alerts == 2  # h1 and h2; h3 exceeds maxspan, h4's first event is not read
    assert (result.true_positives, result.false_positives) == (1, 1)
    assert result.sequences.building_blocks == 4
    assert result.precision == 0.5
    assert result.detection_rate == 1.0
    benign_read = 5  # h2 x2, h3 x2, h4's b.exe (its a.exe is in an index the rule does not read)
    assert result.benign_events == benign_read
    assert result.false_positives_per_million == pytest.approx(1 / benign_read * 1e6)
    chain, admin = result.cells[("chain", "endpoint")], result.cells[("admin", "endpoint")]
    assert (chain.events, chain.alerts) == (2, 2)
    assert (admin.events, admin.alerts) == (5, 2)  # the two events of the benign sequence
    assert [v.kind for v in result.violations] == ["false positive"]
    assert not validation.passed


def test_the_json_report_lists_the_sequences_found(tmp_path: Path) -> None:
    result = app.validate(_rule(tmp_path, SEQUENCE), _corpus(), derived=False).result
    report = orjson.loads(orjson.dumps(result_dict(result), default=str))
    assert report["statement"] == "sequence"
    assert report["sequences"]["found"] == 2
    examples = report["sequences"]["examples"]
    assert [e["attribution"] for e in examples] == ["malicious", "benign"]  # ordered by last event
    assert [e["join_keys"] for e in examples] == [["h1"], ["h2"]]
    assert [[row["labels.scenario"] for row in e["events"]] for e in examples] == [
        ["chain", "chain"],
        ["admin", "admin"],
    ]


def test_a_sample_rule_is_counted_per_key(tmp_path: Path) -> None:
    sample = (
        'sample by host.id [process where process.name == "a.exe"] [process where process.name == "b.exe"]'
    )
    result = app.validate(_rule(tmp_path, sample), _corpus(), derived=False).result
    assert result.statement_kind == "sample"
    # Samples take no order and no maxspan: h1, h2 and h3 each give one; h4's a.exe is not read.
    assert (result.alerts, result.true_positives, result.false_positives) == (3, 1, 2)


def test_diff_of_an_event_rule_and_a_sequence_rule_is_event_by_event(tmp_path: Path) -> None:
    old = _rule(tmp_path, 'process where process.name == "b.exe"', "single")
    new = _rule(tmp_path, SEQUENCE, "sequence")
    diff = app.diff(old, new, _corpus(), derived=False)
    assert diff.result is not None
    admin = diff.result.changes[("admin", "endpoint")]
    # b.exe alerted on h2, h3 and h4 alone; in sequences only h2's pair is left, and a.exe joins it.
    assert (admin.old_alerts, admin.new_alerts) == (3, 2)
    assert (admin.newly_silent, admin.newly_alerting) == (2, 1)
    chain = diff.result.changes[("chain", "endpoint")]
    assert (chain.old_alerts, chain.new_alerts, chain.newly_silent) == (1, 2, 0)
    assert diff.result.regressions == [admin]  # a benign event newly alerting


def test_a_sql_engine_asked_for_by_name_is_refused_for_a_sequence(tmp_path: Path) -> None:
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="row engines"):
        app.validate(_rule(tmp_path, SEQUENCE), _corpus(), engine="duckdb", derived=False)


def test_the_markdown_report_shows_each_sequence_as_its_events(tmp_path: Path) -> None:
    from harness.validation.reports.markdown import to_markdown

    text = to_markdown(app.validate(_rule(tmp_path, SEQUENCE), _corpus(), derived=False).result)
    assert "| sequences found (one alert each) | 2 |" in text
    assert "| scenario | intent | expected | in a found sequence | detection |" in text
    assert "1. malicious, joined on `h1`" in text
    assert "2. benign, joined on `h2`" in text


ROOT = Path(__file__).resolve().parents[1]
WEBSHELL = ROOT / "rules" / "iis_webshell_appcmd_sequence.toml"


def test_the_shipped_sequence_rule_meets_its_expectations() -> None:
    validation = app.validate(WEBSHELL, derived=False)
    result = validation.result
    assert validation.passed, [v.kind + " " + v.scenario + " " + v.source for v in result.violations]
    # Both web-shell chains in the six sources that write process.args; PowerUp's shell and its first
    # AppCmd call in six more: context events of an attack, so alerts on the attack.
    assert (result.alerts, result.true_positives, result.false_positives) == (18, 18, 0)
    chain = result.cells[("appcmd-webshell-cmd-chain", "endpoint")]
    assert (chain.events, chain.alerts) == (1, 1)
    powerup = result.cells[("appcmd-powerup-enumeration", "endpoint")]
    assert powerup.alerts == 0 and powerup.events > 0


def test_a_sequence_of_an_attacks_context_events_is_an_alert_on_the_attack(tmp_path: Path) -> None:
    context = {"scenario": "chain", "intent": "malicious"}
    events = [_event(1_000, "h1", "a.exe", **context), _event(2_000, "h1", "b.exe", **context)]
    for event in events:
        event["labels"]["role"] = "context"
    tally = app.validate(_rule(tmp_path, SEQUENCE), events, derived=False).result.sequences
    assert tally is not None and (tally.found, tally.malicious, tally.other) == (1, 1, 0)
    for event in events:
        event["labels"]["intent"] = "benign"
    tally = app.validate(_rule(tmp_path, SEQUENCE), events, derived=False).result.sequences
    assert tally is not None and (tally.found, tally.malicious, tally.benign, tally.other) == (1, 0, 0, 1)


def test_a_narrower_maxspan_loses_the_chain_at_the_old_bound(tmp_path: Path) -> None:
    old = _rule(tmp_path, SEQUENCE, "wide")
    new = _rule(tmp_path, SEQUENCE.replace("maxspan=1m", "maxspan=30s"), "narrow")
    diff = app.diff(old, new, no_catalogue=True)
    assert diff.result is None and diff.derived is not None
    (lost,) = [change for change in diff.derived.changes if change.direction == "lost"]
    assert [event.variant for event in lost.events] == [
        "at the maxspan bound (60000 ms): 2 events by host.id"
    ]
    assert "query" in lost.events[0].sources and "endpoint" in lost.events[0].sources
    assert not diff.passed  # no [diff.lost] entry accepts it
    back = app.diff(new, old, no_catalogue=True)
    assert back.derived is not None and back.passed
    assert not [change for change in back.derived.changes if change.direction == "lost"]

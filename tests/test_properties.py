"""Properties of the two shipped rule versions, on events the strategies draw.

Per scenario, every event's verdict is what the rule's expectations say. And four
metamorphic relations, read off the query itself, must hold on every event:

* changing the (ASCII) case of a value the query only compares with ``:`` never changes the verdict;
* renaming the binary changes the verdict only through ``process.name`` (never through the path or argv[0]);
* reordering arguments never changes it;
* re-quoting the command line and splitting it again, as the source's pipeline does, never changes it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generators.strategies import benign_events, malicious_events, process_events
from generators.winargs import join_command_line, split_command_line, split_elastic_pipeline
from harness import Matcher, compile_query, load_rule
from harness.eql import Comparison, Field, FunctionCall, InSet, Match, walk
from harness.validation import load_expectations

from bundled import APPCMD, SCENARIOS

ROOT = Path(__file__).resolve().parents[1] / "rules"
VERSIONS = {v: ROOT / f"iis_appcmd_password_dumped_v{v}.toml" for v in (214, 220)}
MATCHERS = {v: compile_query(load_rule(p).query) for v, p in VERSIONS.items()}
EXPECTATIONS = {v: load_expectations(p.with_name(p.stem + ".expect.toml")) for v, p in VERSIONS.items()}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_EVENT = st.one_of(
    malicious_events(catalogue=APPCMD),
    benign_events(catalogue=APPCMD, background=False),
    benign_events(catalogue=APPCMD),
)


@pytest.mark.parametrize("version", [214, 220])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_verdicts_meet_expectations(version: int, scenario: str) -> None:
    matcher, expectations = MATCHERS[version], EXPECTATIONS[version]

    @given(process_events(catalogue=APPCMD, scenario=scenario))
    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def check(event: dict[str, Any]) -> None:
        labels = event["labels"]
        expected = expectations.expect(labels["scenario"], labels["source"], labels["intent"])
        assert matcher.matches(event) is (expected.verdict == "alert"), (labels["source"], expected.origin)

    check()


def colon_only_fields(matcher: Matcher) -> set[str]:
    """Fields the query compares with ``:`` and with nothing else."""
    colon: set[str] = set()
    other: set[str] = set()
    for node in walk(matcher.query.condition):
        if isinstance(node, Match):
            target = colon if node.op == ":" else other
            target.update(f.name for f in walk(node.subject) if isinstance(f, Field))
        elif isinstance(node, (Comparison, InSet, FunctionCall)):
            other.update(f.name for f in walk(node) if isinstance(f, Field))
    return colon - other


def test_colon_only_fields_are_read_off_the_query() -> None:
    assert colon_only_fields(MATCHERS[214]) == {"process.name", "process.args"}
    assert colon_only_fields(MATCHERS[220]) == {"process.name"}


def _recase(value: Any, flips: list[bool]) -> Any:
    if isinstance(value, list):
        return [_recase(item, flips[i:] + flips[:i]) for i, item in enumerate(value)]
    if not isinstance(value, str):
        return value
    return "".join(
        ch.swapcase() if ch.isascii() and flips[i % len(flips)] else ch for i, ch in enumerate(value)
    )


@pytest.mark.parametrize("version", [214, 220])
@given(event=ANY_EVENT, flips=st.lists(st.booleans(), min_size=1, max_size=16))
@SETTINGS
def test_case_of_colon_only_values_never_matters(
    version: int, event: dict[str, Any], flips: list[bool]
) -> None:
    matcher = MATCHERS[version]
    changed = copy.deepcopy(event)
    for name in colon_only_fields(matcher):
        section, key = name.split(".")
        if key in changed.get(section, {}):
            changed[section][key] = _recase(changed[section][key], flips)
    assert matcher.matches(changed) is matcher.matches(event)


@pytest.mark.parametrize("version", [214, 220])
@given(event=ANY_EVENT, new_name=st.sampled_from(["svcupd.exe", "w.exe", "AppCmd2.exe", "list.exe.bak"]))
@SETTINGS
def test_renaming_matters_only_through_process_name(
    version: int, event: dict[str, Any], new_name: str
) -> None:
    matcher = MATCHERS[version]
    name_only = copy.deepcopy(event)
    name_only["process"]["name"] = new_name
    everything = copy.deepcopy(name_only)
    process = everything["process"]
    if "executable" in process:
        process["executable"] = process["executable"].rsplit("\\", 1)[0] + "\\" + new_name
    if process.get("args"):
        process["args"] = [new_name, *process["args"][1:]]
    assert matcher.matches(everything) is matcher.matches(name_only)


@pytest.mark.parametrize("version", [214, 220])
@given(event=ANY_EVENT, data=st.data())
@SETTINGS
def test_argument_order_never_matters(version: int, event: dict[str, Any], data: st.DataObject) -> None:
    matcher = MATCHERS[version]
    args = event["process"].get("args")
    if not args:
        return
    shuffled = copy.deepcopy(event)
    shuffled["process"]["args"] = data.draw(st.permutations(args))
    assert matcher.matches(shuffled) is matcher.matches(event)


SPLITTERS = {
    "endpoint": split_command_line,
    "endgame": split_command_line,
    "sysmon-windows": split_elastic_pipeline,
    "sysmon-winlogbeat": split_elastic_pipeline,
    "sysmon9-winlogbeat": split_elastic_pipeline,
}


@pytest.mark.parametrize("version", [214, 220])
@given(event=ANY_EVENT)
@SETTINGS
def test_requoting_the_command_line_round_trips(version: int, event: dict[str, Any]) -> None:
    split = SPLITTERS.get(event["labels"]["source"])
    args = event["process"].get("args")
    if split is None or not args:
        return  # 4688's splitter keeps quotes by design: quoting is not neutral there (a known gap)
    requoted = copy.deepcopy(event)
    requoted["process"]["command_line"] = join_command_line(list(args))
    requoted["process"]["args"] = split(requoted["process"]["command_line"])
    assert requoted["process"]["args"] == list(args)
    assert MATCHERS[version].matches(requoted) is MATCHERS[version].matches(event)

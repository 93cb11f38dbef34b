"""Hypothesis strategies and the Faker provider: labelled, reproducible, and they shrink."""

from __future__ import annotations

from typing import Any

import pytest
from faker import Faker
from hypothesis import HealthCheck, given, settings
from hypothesis import find as hypothesis_find
from hypothesis import strategies as st

from generators.faker_provider import WindowsProcessProvider
from generators.strategies import benign_events, launches, malicious_events, process_events
from harness import compile_query, load_rule

from bundled import APPCMD, SCENARIOS

V214 = compile_query(load_rule("rules/iis_appcmd_password_dumped_v214.toml").query)
# v214 with its last condition narrowed: it no longer sees `/text:*`.
BROKEN = compile_query(V214.query.source.replace('"/text*"', '"/text:*password*"'))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(malicious_events(catalogue=APPCMD))
@FAST
def test_malicious_events_are_labelled_targets(doc: dict[str, Any]) -> None:
    assert doc["labels"]["intent"] == "malicious"
    assert doc["labels"]["role"] == "target"
    assert SCENARIOS[doc["labels"]["scenario"]].intent == "malicious"


@given(process_events(catalogue=APPCMD, scenario="appcmd-list-apppool-text-star", source="sysmon-windows"))
@FAST
def test_a_fixed_scenario_and_source(doc: dict[str, Any]) -> None:
    assert doc["labels"]["scenario"] == "appcmd-list-apppool-text-star"
    assert doc["labels"]["source"] == "sysmon-windows"
    assert V214.matches(doc)


@given(benign_events(catalogue=APPCMD, source="endpoint"))
@FAST
def test_benign_events_never_claim_malice(doc: dict[str, Any]) -> None:
    assert doc["labels"]["intent"] == "benign"
    assert doc["labels"]["source"] == "endpoint"


@given(st.data())
@FAST
def test_documents_are_copies_a_test_may_change(data: st.DataObject) -> None:
    doc = data.draw(process_events(catalogue=APPCMD, source="endpoint"))
    doc["host"]["name"] = "changed"
    again = data.draw(process_events(catalogue=APPCMD, source="endpoint"))
    assert again["host"]["name"] != "changed"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: launches(catalogue=APPCMD, scenario="no-such-scenario"),
            "scenario='no-such-scenario' is not one of",
        ),
        (lambda: launches(catalogue=APPCMD, intent="evil"), "intent='evil' is not one of"),
        (lambda: process_events(catalogue=APPCMD, source="splunk"), "source='splunk' is not one of"),
    ],
)
def test_bad_options_fail_at_once(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_counterexample_to_a_broken_rule_shrinks_to_the_simplest_dump() -> None:
    missed = hypothesis_find(
        malicious_events(catalogue=APPCMD, source="endpoint"),
        lambda doc: V214.matches(doc) and not BROKEN.matches(doc),
        settings=settings(max_examples=500, database=None),
    )
    assert (
        missed["labels"]["scenario"] == "appcmd-list-apppool-text-star"
    )  # the first scenario of the catalogue
    assert missed["process"]["args"][-1] == "/text:*"
    assert missed["process"]["pid"] == 4  # the smallest process id the strategy draws


def test_a_property_on_a_broken_rule_fails_with_the_shrunk_event() -> None:
    @given(malicious_events(catalogue=APPCMD, source="endpoint"))
    @settings(max_examples=200, database=None, deadline=None)
    def rule_catches_what_v214_catches(doc: dict[str, Any]) -> None:
        if V214.matches(doc):
            assert BROKEN.matches(doc), doc["labels"]["scenario"]

    with pytest.raises(AssertionError, match="appcmd-list-apppool-text-star"):
        rule_catches_what_v214_catches()


def test_faker_provider_is_reproducible() -> None:
    def sample(seed: int) -> tuple[str, dict[str, Any]]:
        fake = Faker()
        fake.add_provider(WindowsProcessProvider)
        fake.seed_instance(seed)
        return fake.appcmd_command_line(APPCMD, intent="malicious"), fake.process_event(
            APPCMD, source="endpoint"
        )

    first, second = sample(3), sample(3)
    assert first == second
    line, doc = first
    assert "appcmd" in line.lower() or "\\" in line
    assert doc["labels"]["source"] == "endpoint"


def test_faker_provider_refuses_a_source_the_scenario_has_not() -> None:
    fake = Faker()
    fake.add_provider(WindowsProcessProvider)
    with pytest.raises(ValueError, match="does not apply"):
        fake.process_event(APPCMD, scenario="non-windows-host", source="sysmon-windows")

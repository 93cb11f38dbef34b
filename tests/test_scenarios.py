"""The AppCmd scenario catalogue: complete, well-formed, and rendered in every source."""

from __future__ import annotations

import fnmatch

import pytest

from generators.profiles import CorpusOptions, corpus_launches, scenario_sources
from generators.sources import SOURCES
from generators.winargs import split_command_line
from harness import load_rule

from bundled import APPCMD, SCENARIOS

REQUIRED = {
    "malicious": [
        "appcmd-list-apppool-text-star",
        "appcmd-list-apppool-named-text-star",
        "appcmd-list-apppool-password",
        "appcmd-list-apppool-username",
        "appcmd-list-vdir-password",
        "appcmd-list-vdir-username",
        "appcmd-list-vdir-text-star",
        "appcmd-list-apppools-plural",
        "appcmd-at-t",
        "appcmd-at-text",
        "appcmd-dash-text",
        "appcmd-config",
        "appcmd-config-star",
        "appcmd-xml",
        "appcmd-list-config-connectionstrings",
        "appcmd-upper-case",
        "appcmd-mixed-case",
        "appcmd-quoted-arguments",
        "appcmd-extra-spaces",
        "appcmd-full-path",
        "appcmd-windir-variable",
        "appcmd-syswow64",
        "appcmd-renamed",
        "appcmd-renamed-mui",
        "appcmd-webshell-cmd-chain",
        "appcmd-webshell-powershell-chain",
        "appcmd-powerup-enumeration",
    ],
    "benign": [
        "admin-list-site",
        "admin-list-sites",
        "admin-list-app",
        "admin-list-apppool",
        "admin-list-wp",
        "admin-list-requests",
        "admin-start-site",
        "admin-stop-apppool",
        "admin-recycle-apppool",
        "admin-add-site",
        "admin-set-config",
        "admin-list-config",
        "monitor-list-apppools-text-name",
        "monitor-list-site-text-name",
        "iis-express-list-sites",
        "other-tool-list-text",
        "appcmd-process-end",
        "non-windows-host",
    ],
    "out-of-scope": [
        "powershell-read-applicationhost-config",
        "powershell-web-administration",
        "aspnet-regiis-pdf",
    ],
}


@pytest.mark.parametrize(("intent", "sid"), [(i, s) for i, ids in REQUIRED.items() for s in ids])
def test_required_scenario_is_catalogued(intent: str, sid: str) -> None:
    scenario = SCENARIOS[sid]
    assert scenario.intent == intent
    assert scenario.description and scenario.reference
    assert intent == "benign" or scenario.attack


SCENARIO_DOCS = [
    (launch, src, src.render(launch))
    for launch, src in corpus_launches(CorpusOptions(seed=3, catalogue=APPCMD))
]


def test_every_scenario_is_rendered_in_every_source_it_applies_to() -> None:
    seen = {(launch.label.scenario, src.name) for launch, src, _ in SCENARIO_DOCS}
    expected = {(s.id, src.name) for s in SCENARIOS.values() for src in scenario_sources(s)}
    assert seen == expected


def test_labels_carry_the_ground_truth() -> None:
    for launch, src, doc in SCENARIO_DOCS:
        assert doc["labels"] == {
            "scenario": launch.label.scenario,
            "intent": launch.label.intent,
            "role": launch.label.role,
            "attack": ",".join(launch.label.attack),
            "source": src.name,
            "index": src.index,
        }


def test_arguments_are_the_windows_split_of_the_command_line() -> None:
    for launch, _, _ in SCENARIO_DOCS:
        assert list(launch.args) == split_command_line(launch.command_line)


def test_chains_are_parent_and_child() -> None:
    chain = [
        launch
        for launch, src, _ in SCENARIO_DOCS
        if launch.label.scenario == "appcmd-webshell-cmd-chain" and src.name == "endpoint"
    ]
    shell, dump = chain
    assert shell.parent.image.name == "w3wp.exe" and shell.label.role == "context"
    assert dump.parent.pid == shell.pid and dump.parent.entity_id == shell.entity_id
    assert dump.label.role == "target" and dump.timestamp_ns > shell.timestamp_ns


def test_powerup_enumerates_every_pool() -> None:
    launches = [
        launch
        for launch, src, _ in SCENARIO_DOCS
        if launch.label.scenario == "appcmd-powerup-enumeration" and src.name == "endpoint"
    ]
    passwords = [launch for launch in launches if launch.args[-1] == "/text:processmodel.password"]
    pools = {launch.args[-2] for launch in passwords}
    assert len(pools) == len(passwords) >= 2


@pytest.mark.parametrize(
    "rule", ["iis_appcmd_password_dumped_v214.toml", "iis_appcmd_password_dumped_v220.toml"]
)
def test_every_windows_source_lands_in_an_index_the_rules_read(rule: str) -> None:
    indices = load_rule(f"rules/{rule}").indices
    for src in SOURCES.values():
        assert any(fnmatch.fnmatchcase(src.index, pattern) for pattern in indices), src.name

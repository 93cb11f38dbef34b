"""The fleet's background reads as real Windows writes it: signers, parents, accounts and tokens."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from generators.profiles import CorpusOptions, corpus_launches

# Background only (no scenario runs), in every source: seed 4 has IIS servers in each of them.
DOCS = [
    (src.name, src.render(launch))
    for launch, src in corpus_launches(CorpusOptions("fleet", events=20_000, seed=4))
]


def _process(doc: dict[str, Any]) -> dict[str, Any]:
    process: dict[str, Any] = doc["process"]
    return process


def _starts(source: str, name: str) -> list[dict[str, Any]]:
    return [doc for src, doc in DOCS if src == source and _process(doc)["name"].lower() == name.lower()]


@pytest.mark.parametrize(
    ("name", "signer"),
    [
        ("chrome.exe", "Google LLC"),
        ("firefox.exe", "Mozilla Corporation"),
        ("msedge.exe", "Microsoft Corporation"),
        ("WINWORD.EXE", "Microsoft Corporation"),
        ("ms-teams.exe", "Microsoft Corporation"),
        ("git.exe", "Johannes Schindelin"),
        ("svchost.exe", "Microsoft Windows"),
        ("MpCmdRun.exe", "Microsoft Windows Publisher"),
    ],
)
@pytest.mark.parametrize("source", ["endpoint", "endgame"])
def test_a_sensor_that_verifies_signatures_reports_the_vendors_signer(
    source: str, name: str, signer: str
) -> None:
    (seen,) = {tuple(sorted(_process(doc)["code_signature"].items())) for doc in _starts(source, name)}
    assert dict(seen) == {"exists": True, "status": "trusted", "subject_name": signer, "trusted": True}


def test_defend_verifies_the_parent_too() -> None:
    signers = Counter(
        _process(doc)["parent"]["code_signature"]["subject_name"]
        for _, doc in DOCS
        if "parent" in doc["process"] and doc["agent"]["type"] == "endpoint"
    )
    assert set(signers) <= {"Microsoft Windows", "Microsoft Corporation", "Google LLC", "Mozilla Corporation"}
    assert signers["Google LLC"] and signers["Microsoft Windows"]


@pytest.mark.parametrize("source", ["sysmon-windows", "sysmon-winlogbeat", "security-4688"])
def test_event_logs_carry_no_signature(source: str) -> None:
    assert not [doc for src, doc in DOCS if src == source and "code_signature" in doc["process"]]


# Parent and child as Windows pairs them: each child with the parent command line that starts it.
@pytest.mark.parametrize(
    ("child", "parent_command_line"),
    [
        ("svchost.exe", "C:\\Windows\\system32\\services.exe"),
        ("SearchProtocolHost.exe", "C:\\Windows\\system32\\SearchIndexer.exe /Embedding"),
        ("WmiPrvSE.exe", "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p"),
        ("taskhostw.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule"),
        ("w3wp.exe", "C:\\Windows\\system32\\svchost.exe -k iissvcs"),
        ("explorer.exe", "C:\\Windows\\system32\\userinit.exe"),
    ],
)
def test_a_child_has_the_parent_windows_gives_it(child: str, parent_command_line: str) -> None:
    parents = {_process(doc)["parent"]["command_line"] for doc in _starts("endpoint", child)}
    assert parents == {parent_command_line}


def test_a_renderer_is_its_browsers_child_and_a_link_opened_from_explorer() -> None:
    pairs = {
        ("--type=renderer" in _process(doc)["command_line"], _process(doc)["parent"]["name"])
        for doc in _starts("endpoint", "chrome.exe")
    }
    assert pairs == {(True, "chrome.exe"), (False, "chrome.exe"), (False, "explorer.exe")}


@pytest.mark.parametrize(
    ("account", "integrity", "sysmon", "label", "elevation"),
    [
        ("NT AUTHORITY\\SYSTEM", "system", "System", "S-1-16-16384", "%%1936"),
        ("NT AUTHORITY\\LOCAL SERVICE", "system", "System", "S-1-16-16384", "%%1936"),
        ("NT AUTHORITY\\NETWORK SERVICE", "system", "System", "S-1-16-16384", "%%1936"),
        ("IIS APPPOOL\\", "high", "High", "S-1-16-12288", "%%1936"),  # every pool's identity
    ],
)
def test_an_account_runs_at_its_integrity_level_in_every_source(
    account: str, integrity: str, sysmon: str, label: str, elevation: str
) -> None:
    def levels(source: str, read: Any) -> set[Any]:
        named = [(src, doc, f"{doc['user']['domain']}\\{doc['user']['name']}") for src, doc in DOCS]
        return {read(doc) for src, doc, who in named if src == source and who.startswith(account)}

    assert levels("endpoint", lambda d: d["process"]["Ext"]["token"]["integrity_level_name"]) == {integrity}
    assert levels("sysmon-windows", lambda d: d["winlog"]["event_data"]["IntegrityLevel"]) == {sysmon}
    assert levels("security-4688", lambda d: d["winlog"]["event_data"]["MandatoryLabel"]) == {label}
    assert levels("security-4688", lambda d: d["winlog"]["event_data"]["TokenElevationType"]) == {elevation}


def test_people_work_at_medium_integrity_in_their_own_logon_session() -> None:
    people = [doc for src, doc in DOCS if src == "sysmon-windows" and doc["process"]["name"] == "chrome.exe"]
    data = [doc["winlog"]["event_data"] for doc in people]
    assert {(d["IntegrityLevel"], d["TerminalSessionId"]) for d in data} == {("Medium", "1")}
    assert "0x3e7" not in {d["LogonId"] for d in data}


def test_well_known_service_accounts_have_their_own_logon_sessions() -> None:
    ids = {
        doc["user"]["name"]: doc["winlog"]["event_data"]["SubjectLogonId"]
        for src, doc in DOCS
        if src == "security-4688" and doc["user"]["domain"] == "NT AUTHORITY"
    }
    assert ids == {"SYSTEM": "0x3e7", "LOCAL SERVICE": "0x3e5", "NETWORK SERVICE": "0x3e4"}


def test_no_background_program_runs_from_a_public_folder() -> None:
    assert not [doc for _, doc in DOCS if "\\users\\public\\" in _process(doc)["executable"].lower()]

"""The two shipped versions of the IIS AppCmd rule, on the events that tell them apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import Matcher, compile_query, load_rule

RULES = Path(__file__).resolve().parents[1] / "rules"


def _matcher(version: int) -> Matcher:
    return compile_query(load_rule(RULES / f"iis_appcmd_password_dumped_v{version}.toml").query)


def _event(args: list[str], **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": {"category": ["process"], "type": ["start"]},
        "host": {"os": {"type": "windows"}},
        "process": {
            "name": "appcmd.exe",
            "executable": "C:\\Windows\\System32\\inetsrv\\appcmd.exe",
            "args": args,
        },
    }
    for dotted, value in overrides.items():
        node = event
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return event


# The Elastic Defend event from the rule's own pull request.
PR_EVENT = _event(["C:\\Windows\\System32\\inetsrv\\appcmd.exe", "list", "apppool", "WsusPool", "/text:*"])

CASES = [
    ("pr-event", PR_EVENT, True, True),
    ("upper-case-verb-and-flag", _event(["appcmd", "LIST", "apppool", "/TEXT:*"]), True, False),
    ("password-field", _event(["appcmd", "list", "apppool", "/text:processmodel.password"]), True, True),
    ("name-only", _event(["appcmd", "list", "apppools", "/text:name"]), True, False),
    ("config-flag", _event(["appcmd", "list", "apppool", "/config"]), False, True),
    ("dash-text", _event(["appcmd", "list", "apppool", "-text:*"]), False, False),
    ("at-t", _event(["appcmd", "list", "apppool", "/@t:*"]), False, False),
    ("connection-string", _event(["appcmd", "list", "config", "/text:connectionString"]), True, True),
    (
        "renamed-binary",
        _event(
            ["x.exe", "list", "apppool", "/text:*"],
            process__name="x.exe",
            process__pe={"original_file_name": "appcmd.exe"},
        ),
        True,
        True,
    ),
    (
        "renamed-mui",
        _event(
            ["x.exe", "list", "apppool", "/text:*"],
            process__name="x.exe",
            process__pe={"original_file_name": "appcmd.exe.mui"},
        ),
        False,
        False,
    ),
    (
        "linux-host",
        _event(["appcmd", "list", "apppool", "/text:*"], host__os={"type": "linux"}),
        False,
        False,
    ),
    ("process-end", _event(["appcmd", "list", "apppool", "/text:*"], event__type=["end"]), False, False),
    (
        "flat-dotted-keys",
        {
            "event.category": "process",
            "event.type": "start",
            "host.os.type": "windows",
            "process.name": "APPCMD.EXE",
            "process.args": ["appcmd", "list", "vdir", "/text:password"],
        },
        True,
        True,
    ),
]


@pytest.mark.parametrize(("name", "event", "v214", "v220"), CASES, ids=[c[0] for c in CASES])
def test_verdicts(name: str, event: dict[str, Any], v214: bool, v220: bool) -> None:
    assert _matcher(214).matches(event) is v214
    assert _matcher(220).matches(event) is v220


def test_the_bare_eql_file_is_the_same_rule() -> None:
    toml = load_rule(RULES / "iis_appcmd_password_dumped_v214.toml")
    bare = load_rule(RULES / "iis_appcmd_password_dumped_v214.eql")
    assert compile_query(bare.query).query == compile_query(toml.query).query

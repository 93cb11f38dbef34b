"""Loading detection rules from TOML, Markdown reference pages and bare EQL, and every way it fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import HarnessError, RuleLoadError
from harness.rules import Rule, Technique, Threat, load_rule

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
BAD = Path(__file__).resolve().parent / "data" / "rules"
SHARED = ROOT.parent / "shared"
RULE_PAGE = SHARED / "data" / "rule-pages" / "microsoft-iis-service-account-password-dumped.md"

V214 = RULES / "iis_appcmd_password_dumped_v214.toml"
V220 = RULES / "iis_appcmd_password_dumped_v220.toml"
V214_EQL = RULES / "iis_appcmd_password_dumped_v214.eql"

NAME = "Microsoft IIS Service Account Password Dumped"
RULE_ID = "0564fb9d-90b9-4234-a411-82a546dc1343"
DESCRIPTION = (
    "Identifies the Internet Information Services (IIS) command-line tool, AppCmd, being used to list"
    " passwords. An attacker with IIS web server access via a web shell can decrypt and dump the IIS"
    " AppPool service account password using AppCmd."
)
NETSPI = "https://blog.netspi.com/decrypting-iis-passwords-to-break-out-of-the-dmz-part-1/"
QUERY_V214 = """\
process where host.os.type == "windows" and event.type == "start" and
   (process.name : "appcmd.exe" or ?process.pe.original_file_name == "appcmd.exe") and
   process.args : "list" and process.args : "/text*"
"""
# The v220 query has one 120-character line; its argument list is split out to keep lines short.
_ARGS = '("/text:*password*", "/text:*processModel*", "/text:*userName*", "/config", "*connectionstring*")'
QUERY_V220 = f"""\
process where host.os.type == "windows" and event.type == "start" and
   (process.name : "appcmd.exe" or ?process.pe.original_file_name == "appcmd.exe") and
   process.args : "list" and
   (
     process.args : {_ARGS} or
     process.args == "/text:*"
   )
"""
INDICES_V214 = (
    "winlogbeat-*",
    "logs-endpoint.events.process-*",
    "logs-windows.*",
    "endgame-*",
    "logs-system.security*",
)
INDICES_V220 = (
    *INDICES_V214,
    "logs-crowdstrike.fdr*",
    "logs-m365_defender.event-*",
    "logs-sentinel_one_cloud_funnel.*",
    "logs-windows.forwarded*",
    "logs-windows.sysmon_operational-*",
)
BASE_TAGS = ("Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Credential Access")
TAGS_V214 = (
    *BASE_TAGS,
    "Data Source: Elastic Endgame",
    "Data Source: Elastic Defend",
    "Rule Type: BBR",
    "Data Source: System",
)
TAGS_V220 = (
    *BASE_TAGS,
    "Data Source: Elastic Defend",
    "Data Source: Sysmon",
    "Data Source: Microsoft Defender for Endpoint",
    "Data Source: SentinelOne",
    "Data Source: Crowdstrike",
    "Data Source: Elastic Endgame",
    "Data Source: System",
    "Data Source: Windows Security Event Logs",
)
T1003 = Technique("T1003", "OS Credential Dumping", "https://attack.mitre.org/techniques/T1003/")
T1552 = Technique(
    "T1552",
    "Unsecured Credentials",
    "https://attack.mitre.org/techniques/T1552/",
    (Technique("T1552.001", "Credentials In Files", "https://attack.mitre.org/techniques/T1552/001/"),),
)


def _credential_access(*techniques: Technique) -> tuple[Threat, ...]:
    return (
        Threat(
            "MITRE ATT&CK",
            "TA0006",
            "Credential Access",
            "https://attack.mitre.org/tactics/TA0006/",
            techniques,
        ),
    )


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


COMMON = {
    "name": NAME,
    "language": "eql",
    "rule_id": RULE_ID,
    "indices": INDICES_V214,
    "interval": "5m",
    "from_": "now-9m",
    "interval_seconds": 300,
    "lookback_seconds": 540,
    "max_signals": 100,
    "risk_score": 21,
    "severity": "low",
    "references": (NETSPI,),
}
EXPECTED: dict[Path, dict[str, object]] = {
    V214: {
        **COMMON,
        "query": QUERY_V214,
        "version": 214,
        "tags": TAGS_V214,
        "timestamp_override": None,
        "building_block": True,
        "threat": _credential_access(T1003),
    },
    V220: {
        **COMMON,
        "query": QUERY_V220,
        "version": 220,
        "indices": INDICES_V220,
        "tags": TAGS_V220,
        "timestamp_override": "event.ingested",
        "building_block": False,
        "threat": _credential_access(T1003, T1552),
    },
}


@pytest.mark.parametrize(
    ("path", "attribute", "expected"),
    [
        pytest.param(path, attribute, expected, id=f"{path.stem[-4:]}-{attribute}")
        for path, fields in EXPECTED.items()
        for attribute, expected in fields.items()
    ],
)
def test_toml_rule_field(path: Path, attribute: str, expected: object) -> None:
    assert getattr(load_rule(path), attribute) == expected


@pytest.mark.parametrize("path", [V214, V220], ids=["v214", "v220"])
def test_toml_rule_description_matches_the_page(path: Path) -> None:
    assert _squash(load_rule(path).description) == DESCRIPTION


@pytest.mark.parametrize("path", [V214, V220], ids=["v214", "v220"])
def test_toml_rule_path_is_the_file_it_came_from(path: Path) -> None:
    assert load_rule(path).path == str(path)


def test_loaded_rules_are_frozen() -> None:
    rule = load_rule(V214)
    with pytest.raises(AttributeError):
        rule.query = "any where true"  # type: ignore[misc]


def test_eql_file_is_the_whole_query_named_after_its_stem() -> None:
    rule = load_rule(V214_EQL)
    assert (rule.name, rule.query, rule.language) == ("iis_appcmd_password_dumped_v214", QUERY_V214, "eql")


def test_eql_file_keeps_comments_for_the_lexer(tmp_path: Path) -> None:
    text = "// appcmd listing passwords\nprocess where /* any */ true\n"
    (tmp_path / "commented.eql").write_text(text, encoding="utf-8")
    assert load_rule(tmp_path / "commented.eql").query == text


# -- the published Markdown page, checked against the v214 TOML ------------------------------

needs_shared = pytest.mark.skipif(
    not RULE_PAGE.is_file(),
    reason=f"Elastic's published rule page is not at {RULE_PAGE} (../shared is absent)",
)


def _threat_ids(rule: Rule) -> list[tuple[str, str, list[str]]]:
    return [
        (threat.tactic_id, technique.id, [sub.id for sub in technique.subtechniques])
        for threat in rule.threat
        for technique in threat.techniques
    ]


AGREEMENT: dict[str, Callable[[Rule], object]] = {
    "name": lambda rule: rule.name,
    "description": lambda rule: _squash(rule.description),
    "query": lambda rule: _squash(rule.query),
    "indices": lambda rule: rule.indices,
    "interval": lambda rule: rule.interval,
    "from": lambda rule: rule.from_,
    "max_signals": lambda rule: rule.max_signals,
    "risk_score": lambda rule: rule.risk_score,
    "severity": lambda rule: rule.severity,
    "tags": lambda rule: rule.tags,
    "version": lambda rule: rule.version,
    "references": lambda rule: rule.references,
    "threat": lambda rule: rule.threat,
    "threat_ids": _threat_ids,
    "building_block": lambda rule: rule.building_block,
}


@needs_shared
@pytest.mark.parametrize("aspect", list(AGREEMENT))
def test_published_page_agrees_with_v214_toml(aspect: str) -> None:
    project = AGREEMENT[aspect]
    assert project(load_rule(RULE_PAGE)) == project(load_rule(V214))


@needs_shared
def test_published_page_has_no_rule_id() -> None:
    # The reference page never shows the rule_id; only the TOML carries it.
    assert load_rule(RULE_PAGE).rule_id is None


# -- a synthetic page, so the Markdown loader is tested without ../shared ---------------------

SYNTHETIC_PAGE = """\
---
mapped_pages:
  - https://example.com/rule.html
---

# Synthetic Rule [synthetic-rule]

Finds a synthetic thing.

**Rule type**: eql

**Rule indices**:

* logs-a-*
* logs-b-*

**Severity**: high

**Risk score**: 73

**Runs every**: 1h

**Searches indices from**: now-2h ({{ref}}/common-options.html#date-math[Date Math format])

**Maximum alerts per execution**: 5

**References**:

* [https://example.com/a](https://example.com/a)
* https://example.com/b

**Tags**:

* OS: Windows

**Version**: 3

## Rule query [_rule_query_1]

```eql
process where process.name : "a.exe"
```

**Framework**: MITRE ATT&CKTM

* Tactic:

    * Name: Persistence
    * ID: TA0003
    * Reference URL: [https://attack.mitre.org/tactics/TA0003/](https://attack.mitre.org/tactics/TA0003/)

* Technique:

    * Name: Account Manipulation
    * ID: T1098
    * Reference URL: [https://attack.mitre.org/techniques/T1098/](https://attack.mitre.org/techniques/T1098/)

* Sub-technique:

    * Name: SSH Authorized Keys
    * ID: T1098.004
    * Reference URL: [https://attack.mitre.org/techniques/T1098/004/](https://attack.mitre.org/techniques/T1098/004/)

* Tactic:

    * Name: Defense Evasion
    * ID: TA0005
    * Reference URL: [https://attack.mitre.org/tactics/TA0005/](https://attack.mitre.org/tactics/TA0005/)
"""

SYNTHETIC_EXPECTED = Rule(
    name="Synthetic Rule",
    query='process where process.name : "a.exe"',
    language="eql",
    path="",  # filled in by the test
    version=3,
    description="Finds a synthetic thing.",
    indices=("logs-a-*", "logs-b-*"),
    interval="1h",
    from_="now-2h",
    max_signals=5,
    risk_score=73,
    severity="high",
    tags=("OS: Windows",),
    threat=(
        Threat(
            "MITRE ATT&CK",
            "TA0003",
            "Persistence",
            "https://attack.mitre.org/tactics/TA0003/",
            (
                Technique(
                    "T1098",
                    "Account Manipulation",
                    "https://attack.mitre.org/techniques/T1098/",
                    (
                        Technique(
                            "T1098.004",
                            "SSH Authorized Keys",
                            "https://attack.mitre.org/techniques/T1098/004/",
                        ),
                    ),
                ),
            ),
        ),
        Threat("MITRE ATT&CK", "TA0005", "Defense Evasion", "https://attack.mitre.org/tactics/TA0005/"),
    ),
    references=("https://example.com/a", "https://example.com/b"),
)


def test_synthetic_markdown_page_loads(tmp_path: Path) -> None:
    page = tmp_path / "synthetic-rule.md"
    page.write_text(SYNTHETIC_PAGE, encoding="utf-8")
    assert load_rule(page) == replace(SYNTHETIC_EXPECTED, path=str(page))


def test_markdown_bbr_tag_makes_a_building_block(tmp_path: Path) -> None:
    page = tmp_path / "bbr.md"
    page.write_text(SYNTHETIC_PAGE.replace("* OS: Windows", "* Rule Type: BBR"), encoding="utf-8")
    assert load_rule(page).building_block is True


# -- schedules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("interval", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("2d", 172800)])
def test_interval_seconds(interval: str, seconds: int) -> None:
    assert Rule("r", "any where true", "eql", "r.eql", interval=interval).interval_seconds == seconds


@pytest.mark.parametrize(("from_", "seconds"), [("now-90s", 90), ("now-9m", 540), ("now-1h", 3600)])
def test_lookback_seconds(from_: str, seconds: int) -> None:
    assert Rule("r", "any where true", "eql", "r.eql", from_=from_).lookback_seconds == seconds


@pytest.mark.parametrize(
    ("field", "value"),
    [("interval", "5"), ("interval", "0m"), ("interval", "5 minutes"), ("from_", "now"), ("from_", "9m")],
)
def test_bad_schedule_fails_at_construction(field: str, value: str) -> None:
    with pytest.raises(RuleLoadError) as caught:
        Rule("r", "any where true", "eql", "r.eql", **{field: value})  # type: ignore[arg-type]
    assert caught.value.path == "r.eql"


# -- bad input: each names the file and, where it can, the line -------------------------------


@pytest.mark.parametrize(
    ("name", "line", "column", "words"),
    [
        pytest.param("bad_syntax.toml", 4, 10, "invalid TOML", id="toml-syntax"),
        pytest.param("missing_query.toml", 4, None, "no query", id="toml-missing-query"),
        pytest.param("kuery_language.toml", 4, None, "'kuery'", id="toml-kuery-language"),
        pytest.param("no_rule_table.toml", None, None, "no [rule] table", id="toml-no-rule-table"),
        pytest.param("bad_interval.toml", 5, None, "'5 minutes'", id="toml-bad-interval"),
        pytest.param("bad_from.toml", 6, None, "'9 minutes ago'", id="toml-bad-from"),
        pytest.param("unclosed_query.toml", 5, None, "invalid TOML", id="toml-unclosed-at-end"),
        pytest.param("string_risk_score.toml", 5, None, "must be an integer", id="toml-wrong-type"),
        pytest.param("no_query.md", None, None, "'## Rule query'", id="md-no-query"),
        pytest.param("query_rule_type.md", 5, None, "'query'", id="md-not-eql"),
        pytest.param("bad_risk_score.md", 7, None, "'high'", id="md-bad-number"),
        pytest.param("bad_interval.md", 7, None, "'every five minutes'", id="md-bad-interval"),
    ],
)
def test_bad_rule_file(name: str, line: int | None, column: int | None, words: str) -> None:
    path = BAD / name
    with pytest.raises(RuleLoadError) as caught:
        load_rule(path)
    assert (caught.value.path, caught.value.line, caught.value.column) == (str(path), line, column)
    assert words in caught.value.message


def test_unknown_suffix_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "rule.json"
    path.write_text("{}\n", encoding="utf-8")
    supported = r"'\.json'; supported: \.toml, \.md, \.eql, \.yml, \.yaml$"
    with pytest.raises(RuleLoadError, match=supported) as caught:
        load_rule(path)
    assert caught.value.path == str(path)


def test_missing_file_is_a_rule_load_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(RuleLoadError, match="no such rule file") as caught:
        load_rule(path)
    assert caught.value.path == str(path)


def test_empty_eql_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.eql"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(RuleLoadError, match="query is empty"):
        load_rule(path)


def test_rule_load_error_is_a_harness_error() -> None:
    assert issubclass(RuleLoadError, HarnessError)

"""Elastic's rules in ``../shared`` (absent on some machines: tests that need them skip)."""

from __future__ import annotations

from pathlib import Path

from harness.eql import Query, parse_statement
from harness.errors import HarnessError
from harness.rules import load_rule

ELASTIC_RULES = Path(__file__).resolve().parents[2] / "shared" / "data" / "rules" / "elastic"


def multi_event_rules() -> list[Path]:
    """The sequence, sample and piped rules of the shared sample the loader reads, or none without it."""
    return _eql_rules(multi_event=True)


def single_event_rules() -> list[Path]:
    """The event query rules of the shared sample the loader reads, or none without it."""
    return _eql_rules(multi_event=False)


def _eql_rules(*, multi_event: bool) -> list[Path]:
    if not ELASTIC_RULES.is_dir():
        return []
    found = []
    for path in sorted(ELASTIC_RULES.rglob("*.toml")):
        try:
            rule = load_rule(path)
        except HarnessError:  # only the rules the loader reads are candidates
            continue
        if rule.language == "eql" and isinstance(parse_statement(rule.query), Query) != multi_event:
            found.append(path)
    return found

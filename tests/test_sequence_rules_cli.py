"""Every sequence and sample rule of Elastic's shared sample through the judging commands, as a new user
runs them: exit 0 or 1 (a verdict), never 2 or a traceback. Skipped without ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.eql import parse_statement
from harness.rules import load_rule

from shared_rules import ELASTIC_RULES, multi_event_rules

RULES = multi_event_rules()
COMMANDS = {
    "validate": ["validate", "{rule}"],
    "validate-fleet": ["validate", "{rule}", "--profile", "fleet", "--events", "3000", "--no-derived"],
    "check": ["check", "{rule}"],
    "diff": ["diff", "{rule}", "{rule}"],
    "bench": ["bench", "{rule}", "--profile", "fleet", "--events", "2000", "--repeat", "1"],
}


def test_the_shared_sample_holds_its_sequence_and_sample_rules() -> None:
    if not ELASTIC_RULES.is_dir():
        pytest.skip("needs ../shared/data/rules/elastic")
    kinds = sorted(type(parse_statement(load_rule(p).query)).__name__ for p in RULES)
    assert kinds.count("Sample") == 1 and kinds.count("Sequence") >= 2


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("path", RULES, ids=lambda p: p.stem)
def test_a_judging_command_gives_a_verdict_on_a_multi_event_rule(path: Path, command: str) -> None:
    args = [arg.format(rule=path) for arg in COMMANDS[command]]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1), result.output
    if command == "diff":
        assert result.exit_code == 0, result.output  # a rule against itself changes nothing

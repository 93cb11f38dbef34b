"""``[diff.lost.NAME]`` in an expectations file: losses a version accepts, each with a status and a reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.app.setup import known_names
from harness.validation import load_expectations
from harness.validation.expectations import ExpectationError


@pytest.mark.parametrize(
    ("entry", "message", "line"),
    [
        ('[diff.lost.x]\nwhere = "process.name : \\"a\\""\nstatus = "expected"\n', "needs a reason", 1),
        (
            '[diff.lost.x]\nwhere = "process.name :"\nstatus = "expected"\nreason = "r"\n',
            "not a valid EQL",
            2,
        ),
        (
            '[diff.lost.x]\nsources = ["endpoint"]\nstatus = "known-noise"\nreason = "r"\n',
            'status must be "expected"',
            3,
        ),
        (
            '[diff.lost.x]\nsources = ["endpont"]\nstatus = "expected"\nreason = "r"\n',
            "did you mean 'endpoint'",
            2,
        ),
        ('[diff.lost.x]\nstatus = "expected"\nreason = "r"\n', "needs where or sources", 1),
        ("[diff.gained.x]\nwhere = 'true'\n", "unknown key 'gained' in [diff]", 1),
    ],
    ids=["no-reason", "bad-where", "known-noise", "unknown-source", "selects-nothing", "unknown-table"],
)
def test_a_bad_accepted_loss_names_its_line(tmp_path: Path, entry: str, message: str, line: int) -> None:
    path = tmp_path / "x.expect.toml"
    path.write_text(entry, encoding="utf-8")
    with pytest.raises(ExpectationError, match=re.escape(message)) as caught:
        load_expectations(path, known_names())
    assert caught.value.line == line


def test_an_accepted_loss_selects_by_condition_and_source(tmp_path: Path) -> None:
    path = tmp_path / "x.expect.toml"
    path.write_text(
        '[diff.lost.upper]\nwhere = \'process.args : "/text:*" and not process.args like "/text:*"\'\n'
        'sources = ["endpoint"]\nstatus = "known-gap"\nreason = "case"\n',
        encoding="utf-8",
    )
    (entry,) = load_expectations(path).lost
    upper = {"process": {"args": ["list", "/TEXT:*"]}}
    lower = {"process": {"args": ["list", "/text:name"]}}
    assert entry.accepts(upper, "endpoint") and entry.line == 1
    assert not entry.accepts(upper, "endgame") and not entry.accepts(lower, "endpoint")

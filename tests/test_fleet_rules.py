"""Elastic's production rules stay quiet on a benign fleet background, as on the fleets they were tuned on.

Every single-event rule of the shared sample that can read process events runs over a
fleet corpus without scenarios (background only): at most one alert per 100,000 events,
and a rule that alerts at all is named in corpora/README.md with the activity that
triggers it. ``HARNESS_FLEET_EVENTS=1000000`` runs the same check on the million events
corpora/README.md reports on (default seed). Most of the time goes to the one rule DuckDB
cannot run (``length()`` is a script in Elasticsearch): the row engine reads it every column.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness import validate
from harness.eql import parse_query
from harness.eql.ast import Query
from harness.errors import HarnessError
from harness.rules import load_rule
from harness.validation import Violation
from harness.vocabulary import DEFAULT_SEED

ROOT = Path(__file__).resolve().parents[1]
ELASTIC_RULES = ROOT.parent / "shared" / "data" / "rules" / "elastic"
README = ROOT / "corpora" / "README.md"
EVENTS = int(os.environ.get("HARNESS_FLEET_EVENTS", "100000"))
EVENTS_PER_ALERT = 100_000  # the noise budget: one alert per this many background events


def _single_event_query(path: Path) -> Query | None:
    """The rule's query, or None for what the harness does not evaluate (sequences, samples)."""
    try:
        return parse_query(load_rule(path).query)
    except HarnessError:
        return None


SAMPLE = sorted(ELASTIC_RULES.rglob("*.toml")) if ELASTIC_RULES.is_dir() else []
QUERIES = {path: query for path in SAMPLE if (query := _single_event_query(path)) is not None}
# A `registry where` or `library where` query matches only events of its category: on a
# background of process starts it cannot alert (test_the_background_is_process_events_only).
PROCESS_RULES = [path for path, query in QUERIES.items() if query.category in (None, "process")]

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(
        not SAMPLE, reason=f"Elastic's rules are not at {ELASTIC_RULES} (../shared is absent)"
    ),
]


@pytest.fixture(scope="module")
def background(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fleet's background alone (no catalogue: no scenario runs), as Parquet for DuckDB."""
    path = tmp_path_factory.mktemp("fleet") / "background.parquet"
    write_corpus(CorpusOptions("fleet", events=EVENTS, seed=DEFAULT_SEED), path)
    return path


def test_the_background_is_process_events_only(background: Path) -> None:
    event = pq.read_table(background, columns=["event"])["event"].combine_chunks()
    assert pc.unique(pc.list_flatten(event.field("category"))).to_pylist() == ["process"]


def _examples(violations: list[Violation]) -> str:
    """Where the alerts are, and what the first in each source ran: an analyst's first look."""
    lines = []
    for violation in violations:
        process = (violation.example or {}).get("process", {})
        parent = process.get("parent", {}).get("name")
        started = f"{parent} -> {process.get('command_line')}"
        lines.append(f"  {violation.source}: {violation.wrong} alerts, e.g. {started}")
    return "\n".join(lines)


@pytest.mark.parametrize("path", PROCESS_RULES, ids=[p.stem for p in PROCESS_RULES])
def test_a_production_rule_stays_quiet_on_the_background(path: Path, background: Path) -> None:
    result = validate(path, background).result
    alerts = result.false_positives  # every event is benign background
    where = _examples(result.violations)
    assert alerts <= EVENTS // EVENTS_PER_ALERT, f"{alerts} alerts on {EVENTS:,} background events\n{where}"
    if alerts:
        assert f"`{path.name}`" in _alerting_rules_section(), (
            f"{path.name} alerts {alerts} times: name it in corpora/README.md with the benign activity "
            f"that triggers it\n{where}"
        )


def _alerting_rules_section() -> str:
    """corpora/README.md's list of the rules that alert on the background, with what triggers them."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Rules that alert on the background", 1)[1]
    return section.split("\n#", 1)[0]

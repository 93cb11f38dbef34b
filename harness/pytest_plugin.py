"""The pytest plugin: ``pytest --rule RULE [--expect FILE]`` runs the standard battery on any EQL rule.

The battery, added to whatever else pytest collected:

* one test per scenario of the catalogue, driven by Hypothesis: for every event drawn
  from the scenario in any source it applies to, the rule's verdict equals the
  expectation; a failure shows the shrunk event and the query;
* the golden-corpus regression: every expectation holds on the scenarios corpus (seed 7);
* the budgets, on a generated fleet corpus.

Fixtures for tests of your own: ``rule``, ``matcher``, ``expectations``,
``golden_corpus`` and the strategies ``malicious_events``, ``benign_events``,
``scenario_events``. Battery items carry the ``rule_battery`` marker, so
``-m rule_battery`` runs only them and ``-m "not rule_battery"`` leaves them out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

__all__: list[str] = []

_EXAMPLES = 25
_BUDGET_EVENTS = 50_000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("detection-harness", "validate an EQL detection rule")
    group.addoption("--rule", metavar="PATH", help="Rule to validate (TOML, Markdown page or .eql).")
    group.addoption("--expect", metavar="PATH", help="Expectations (default: the rule's .expect.toml).")
    group.addoption(
        "--rule-examples",
        type=int,
        default=_EXAMPLES,
        metavar="N",
        help=f"Hypothesis examples per scenario (default {_EXAMPLES}).",
    )
    group.addoption(
        "--rule-budget-events",
        type=int,
        default=_BUDGET_EVENTS,
        metavar="N",
        help=f"Fleet events for the budget test (default {_BUDGET_EVENTS:,}).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule_battery: a test of the standard battery that --rule adds")
    config.addinivalue_line("markers", "scenario(id): the catalogue scenario a test is about")


class _Context:
    """What the battery needs, loaded once per session."""

    def __init__(self, config: pytest.Config) -> None:
        from harness import compile_query, load_rule
        from harness.validation import Expectations, default_expectations_path, load_expectations

        rule_path = config.getoption("--rule")
        self.rule = load_rule(rule_path)
        self.matcher = compile_query(self.rule.query)
        found = config.getoption("--expect") or default_expectations_path(rule_path)
        self.expectations = load_expectations(found) if found else Expectations()
        self.examples = int(config.getoption("--rule-examples"))
        self.budget_events = int(config.getoption("--rule-budget-events"))


_CONTEXT_KEY = pytest.StashKey[_Context]()


def _context(config: pytest.Config) -> _Context:
    if _CONTEXT_KEY not in config.stash:
        if not config.getoption("--rule"):
            pytest.skip("needs --rule PATH")
        config.stash[_CONTEXT_KEY] = _Context(config)
    return config.stash[_CONTEXT_KEY]


class BatteryError(Exception):
    """A battery test's failure, shown as its message alone (no traceback into the harness)."""


class _BatteryItem(pytest.Item):
    def __init__(self, *, check: Callable[[], None], description: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.description = description
        self.add_marker("rule_battery")

    def runtest(self) -> None:
        self.check()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (BatteryError, AssertionError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(str(self.config.getoption("--rule"))), 0, self.description


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("--rule"):
        return
    from generators.appcmd import SCENARIOS

    context = _context(config)
    name = Path(str(config.getoption("--rule"))).stem
    for scenario in SCENARIOS.values():
        items.append(
            _BatteryItem.from_parent(
                session,
                name=f"{name}::scenario[{scenario.id}]",
                description=f"scenario {scenario.id}",
                check=_scenario_check(context, scenario.id),
            )
        )
    items.append(
        _BatteryItem.from_parent(
            session,
            name=f"{name}::golden-corpus",
            description="golden corpus",
            check=lambda: _golden_check(context),
        )
    )
    items.append(
        _BatteryItem.from_parent(
            session, name=f"{name}::budgets", description="budgets", check=lambda: _budget_check(context)
        )
    )


def _scenario_check(context: _Context, scenario: str) -> Callable[[], None]:
    def check() -> None:
        from hypothesis import HealthCheck, given, settings

        from generators.strategies import process_events

        @given(process_events(scenario=scenario))
        @settings(
            max_examples=context.examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        def verdict_matches(event: dict[str, Any]) -> None:
            labels = event["labels"]
            expected = context.expectations.expect(labels["scenario"], labels["source"], labels["intent"])
            alerted = context.matcher.matches(event)
            if alerted != (expected.verdict == "alert"):
                process = event.get("process", {})
                pe = process.get("pe") or {}
                raise BatteryError(
                    f"{scenario} in {labels['source']}: expected {expected.verdict} ({expected.origin}), "
                    f"the rule {'alerted' if alerted else 'stayed silent'}\n"
                    f"query: {context.matcher.query}\n"
                    f"process.name: {process.get('name')!r}  process.pe.original_file_name: "
                    f"{pe.get('original_file_name')!r}\nprocess.args: {process.get('args')!r}\n"
                    f"the whole (shrunk) event:\n{json.dumps(event, indent=2)}"
                )

        verdict_matches()

    return check


def _golden_check(context: _Context) -> None:
    from harness.corpus import open_corpus
    from harness.validation import run_validation

    result = run_validation(
        context.matcher,
        open_corpus(profile="scenarios", seed=7),
        context.expectations,
        rule_name=context.rule.name,
    )
    if result.violations:
        lines = [
            f"{v.kind}: {v.scenario} in {v.source}: {v.wrong} of {v.events} (expected {v.expected})"
            for v in result.violations
        ]
        raise BatteryError("the golden scenarios corpus breaks expectations:\n" + "\n".join(lines))


def _budget_check(context: _Context) -> None:
    from harness.corpus import open_corpus
    from harness.validation import run_validation

    documents = open_corpus(profile="fleet", events=context.budget_events, seed=7)
    result = run_validation(context.matcher, documents, context.expectations, rule_name=context.rule.name)
    failed = [c for c in result.budget_checks if not c.passed]
    if failed:
        raise BatteryError("; ".join(f"{c.name}: {c.actual} against a limit of {c.limit}" for c in failed))


@pytest.fixture
def rule(request: pytest.FixtureRequest) -> Any:
    """The rule given with ``--rule``."""
    return _context(request.config).rule


@pytest.fixture
def matcher(request: pytest.FixtureRequest) -> Any:
    """The rule's compiled query."""
    return _context(request.config).matcher


@pytest.fixture
def expectations(request: pytest.FixtureRequest) -> Any:
    """The rule's expectations (its .expect.toml, or ``--expect``)."""
    return _context(request.config).expectations


@pytest.fixture(scope="session")
def golden_corpus() -> list[dict[str, Any]]:
    """The scenarios corpus (seed 7) as documents."""
    from harness.corpus import open_corpus

    return list(open_corpus(profile="scenarios", seed=7))


@pytest.fixture
def malicious_events() -> Any:
    """A strategy factory: ``malicious_events(source=None)``."""
    from generators.strategies import malicious_appcmd_events

    return malicious_appcmd_events


@pytest.fixture
def benign_events() -> Any:
    """A strategy factory: ``benign_events(source=None, background=True)``."""
    from generators.strategies import benign_events as strategy

    return strategy


@pytest.fixture
def scenario_events() -> Any:
    """A strategy factory: ``scenario_events(scenario=None, source=None, intent=None)``."""
    from generators.strategies import process_events

    return process_events

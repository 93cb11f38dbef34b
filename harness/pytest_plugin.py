"""The pytest plugin: ``pytest --rule RULE [--expect FILE]`` runs the standard battery on any EQL rule.

``--rules PATH`` (a file, a folder or a glob; repeatable) runs the same battery on every rule
the paths name, each item named ``NAME::test`` where NAME is the rule file's stem, or, when
two rules share a stem, the shortest path suffix that tells them apart (``a/x`` and
``b/x``; ``x.toml`` and ``x.md`` in one folder). Each rule reads its own ``.expect.toml``
(``--expect`` is for one rule). A rule that does not load is one failing test naming its
file, so the other rules still run. The fixtures below need exactly one rule.

The battery, added to whatever else pytest collected:

* one test per witness and near miss derived from the rule's query, in each source the
  rule's indices read (``derived[b0w0-endpoint]``): the witness alerts, the near miss
  stays silent; a blind spot (the source never writes a field the witness needs) is
  skipped with its reason; ``--no-derived`` leaves them out;
* one test per scenario of the rule's catalogue (``--catalogue``, or the one its
  expectations name), driven by Hypothesis: for every event drawn from the scenario in
  any source the rule's indices read, the rule's verdict equals the expectation; a
  failure shows the shrunk event and the query;
* the golden-corpus regression: every expectation holds on the scenarios corpus (seed 7);
* the budgets, on a generated fleet corpus.

A rule that no catalogue covers gets the derived tests alone, never another technique's
scenarios; with ``--no-derived`` as well, the run stops with one line saying so and what
to do. Every run goes through the application layer (:mod:`harness.app`), as the CLI's do.

Fixtures for tests of your own: ``rule``, ``matcher``, ``expectations``,
``golden_corpus`` and the strategies ``malicious_events``, ``benign_events``,
``scenario_events``. Battery items carry the ``rule_battery`` marker, so
``-m rule_battery`` runs only them and ``-m "not rule_battery"`` leaves them out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

__all__: list[str] = []

_EXAMPLES = 25
_BUDGET_EVENTS = 50_000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("detection-harness", "validate an EQL detection rule")
    group.addoption("--rule", metavar="PATH", help="Rule to validate (TOML, Markdown page or .eql).")
    group.addoption(
        "--rules",
        action="append",
        default=[],
        metavar="PATH",
        help="Rules to validate: a file, a folder or a glob (repeatable); one battery per rule.",
    )
    group.addoption("--expect", metavar="PATH", help="Expectations (default: the rule's .expect.toml).")
    group.addoption(
        "--catalogue", metavar="NAME", help="Scenario catalogue (default: the one the expectations name)."
    )
    group.addoption(
        "--exceptions",
        metavar="PATH",
        help="Exception lists to apply (Kibana's export or the TOML form; default: the rule's "
        "X.exceptions.toml).",
    )
    group.addoption(
        "--no-exceptions", action="store_true", help="Apply no exceptions, not even the rule's own."
    )
    group.addoption(
        "--no-derived",
        action="store_true",
        help="Leave out the tests derived from the rule's query (witnesses and near misses).",
    )
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

    def __init__(self, config: pytest.Config, rule_path: Path, expect: str | None) -> None:
        from harness.app import derived_result, derived_suite, prepare_rule
        from harness.app.setup import NO_EXCEPTIONS
        from harness.eql import Query, Searcher, compile_query, compile_statement, parse_statement

        self.path = rule_path
        derived = not config.getoption("--no-derived")
        given, none = config.getoption("--exceptions"), config.getoption("--no-exceptions")
        if given and none:
            raise pytest.UsageError("give --exceptions PATH or --no-exceptions, not both")
        self.setup = prepare_rule(
            rule_path,
            expect=expect,
            catalogue=config.getoption("--catalogue"),
            exceptions=NO_EXCEPTIONS if none else given,
        )
        # The rule's alerts are its matches among the events no exception item excludes.
        self.exceptions = self.setup.active_exceptions()
        if not derived:
            self.setup.require_catalogue("the pytest battery")
        self.catalogue = self.setup.catalogue
        # Judged once, through the application layer: each test reports one case in one source.
        self.derived = derived_result(self.setup, derived_suite(self.setup)) if derived else None
        self.rule = self.setup.rule
        self.expectations = self.setup.expectations
        statement = parse_statement(self.rule.query)
        # A sequence, sample or piped rule is searched over many events at once: a Searcher.
        self.matcher: Any = (
            compile_query(self.rule.query)
            if isinstance(statement, Query)
            else compile_statement(self.rule.query)
        )
        self.multi_event = isinstance(self.matcher, Searcher)
        self.query = str(statement)
        self.golden: Any = None  # the golden corpus's validation, once asked for
        self.examples = int(config.getoption("--rule-examples"))
        self.budget_events = int(config.getoption("--rule-budget-events"))


_CONTEXTS_KEY = pytest.StashKey["dict[str, _Context | str]"]()


def _wants_battery(config: pytest.Config) -> bool:
    return bool(config.getoption("--rule") or config.getoption("--rules"))


def _rule_files(config: pytest.Config) -> list[Path]:
    """``--rule`` and every rule ``--rules`` names, each once, in the order given then sorted."""
    from harness.errors import HarnessError
    from harness.rule_paths import expand_rule_paths

    single = config.getoption("--rule")
    files = [Path(str(single))] if single else []
    try:
        many = expand_rule_paths(config.getoption("--rules"))
    except HarnessError as error:  # a path naming no rule: nothing to run for it, said before any test
        raise pytest.UsageError(f"--rules: {error}") from error
    seen = {path.resolve() for path in files}
    return files + [path for path in many if path.resolve() not in seen]


def rule_names(paths: list[Path]) -> list[str]:
    """Each rule's test-id prefix: its stem, or the shortest path suffix no other rule shares."""
    names = [path.stem for path in paths]
    for depth in range(max((len(path.parts) for path in paths), default=0) + 1):
        clashing = {n for n in names if names.count(n) > 1}
        if not clashing:
            break
        # A clash is told apart by the file's suffix first, then by one more folder each round.
        names = [
            "/".join((*path.parts[len(path.parts) - 1 - depth : -1], path.name)) if name in clashing else name
            for name, path in zip(names, paths, strict=True)
        ]
    return names


def _contexts(config: pytest.Config) -> dict[str, _Context | str]:
    """Each rule's loaded battery, or for a rule that does not load the error saying why."""
    from harness.errors import HarnessError

    if _CONTEXTS_KEY not in config.stash:
        files = _rule_files(config)
        one = len(files) == 1
        loaded: dict[str, _Context | str] = {}
        for name, path in zip(rule_names(files), files, strict=True):
            try:
                loaded[name] = _Context(config, path, config.getoption("--expect") if one else None)
            except HarnessError as error:
                if not config.getoption("--rules"):
                    raise pytest.UsageError(str(error)) from error  # one rule: stop, as the CLI does
                loaded[name] = f"{path}: {error}"
        config.stash[_CONTEXTS_KEY] = loaded
    return config.stash[_CONTEXTS_KEY]


def _context(config: pytest.Config) -> _Context:
    """The one rule the fixtures are about."""
    if not _wants_battery(config):
        pytest.skip("needs --rule PATH")
    contexts = list(_contexts(config).values())
    if len(contexts) != 1:
        pytest.skip(f"the rule fixtures need one rule; --rules named {len(contexts)}")
    if isinstance(contexts[0], str):
        pytest.skip(contexts[0])
    return contexts[0]


class BatteryError(Exception):
    """A battery test's failure, shown as its message alone (no traceback into the harness)."""


class _BatteryItem(pytest.Item):
    def __init__(
        self, *, check: Callable[[], None], description: str, rule_path: Path, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.description = description
        self.rule_path = rule_path
        self.add_marker("rule_battery")

    def runtest(self) -> None:
        self.check()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (BatteryError, AssertionError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.rule_path, 0, self.description


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not _wants_battery(config):
        return
    files = dict(zip(rule_names(_rule_files(config)), _rule_files(config), strict=True))
    battery: list[pytest.Item] = []
    for name, context in _contexts(config).items():
        if isinstance(context, str):
            battery.append(
                _BatteryItem.from_parent(
                    session,
                    name=f"{name}::load",
                    description="load the rule",
                    rule_path=files[name],
                    check=partial(_load_failed, context),
                )
            )
        else:
            battery += _battery(session, name, context)
    items += battery
    # The battery is made after pytest collected the files, so its items reach the terminal's
    # count ("collected N items", --collect-only) only through a collect report of their own.
    report = pytest.CollectReport(
        "", "passed", None, list[pytest.Item | pytest.Collector](battery), sections=[]
    )
    session.ihook.pytest_collectreport(report=report)


def _load_failed(error: str) -> None:
    raise BatteryError(f"the rule does not load: {error}")


def _battery(session: pytest.Session, name: str, context: _Context) -> list[pytest.Item]:
    """One rule's battery: the same items whether it came from ``--rule`` or ``--rules``."""
    item = partial(_BatteryItem.from_parent, session, rule_path=context.path)
    items: list[pytest.Item] = []
    if context.derived is not None:
        for outcome in context.derived.outcomes:
            key = f"{outcome.case.key}-{outcome.source}"
            items.append(
                item(
                    name=f"{name}::derived[{key}]",
                    description=f"derived {outcome.case.kind} {outcome.case.key} in {outcome.source}",
                    check=partial(_derived_check, context, outcome),
                )
            )
    if context.catalogue is None:
        return items
    for scenario in context.catalogue.scenarios.values():
        items.append(
            item(
                name=f"{name}::scenario[{scenario.id}]",
                description=f"scenario {scenario.id}",
                check=_scenario_check(context, scenario.id),
            )
        )
    items.append(
        item(
            name=f"{name}::golden-corpus", description="golden corpus", check=partial(_golden_check, context)
        )
    )
    items.append(item(name=f"{name}::budgets", description="budgets", check=partial(_budget_check, context)))
    return items


def _derived_check(context: _Context, outcome: Any) -> None:
    """One derived case in one source: a blind spot is skipped, a violation fails with the document."""
    if outcome.blind_spot:
        pytest.skip(f"blind spot: {outcome.reason}")
    if outcome.violation:
        did = "stayed silent" if outcome.alerted is False else "alerted"
        raise BatteryError(
            f"derived {outcome.case.kind} {outcome.case.key} in {outcome.source}: expected "
            f"{outcome.expectation.verdict}, the rule {did}\n"
            f"why: {outcome.explanation()}\n"
            f"query: {context.query}\n"
            f"the case: {outcome.case.summary}\n"
            f"the document:\n{json.dumps(outcome.document, indent=2)}"
        )


def _scenario_check(context: _Context, scenario: str) -> Callable[[], None]:
    def check() -> None:
        from hypothesis import HealthCheck, given, settings

        from generators.strategies import process_events

        scope = context.setup.scope
        if context.multi_event:
            # Events are judged together: the scenario's cells of the golden corpus, searched once.
            _scenario_in_golden(context, scenario)
            return

        judged = [0]  # examples held to a verdict: accepted gaps and noise are not

        @given(process_events(catalogue=_catalogue(context), scenario=scenario))
        @settings(
            max_examples=context.examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        def verdict_matches(event: dict[str, Any]) -> None:
            if not scope.reads(event):
                return  # a source the rule's indices do not read: the rule never sees the event
            labels = event["labels"]
            expected = context.expectations.expect(labels["scenario"], labels["source"], labels["intent"])
            alerted = context.matcher.matches(event)
            excepted = alerted and context.exceptions is not None and context.exceptions.excludes(event)
            alerted = alerted and not excepted
            if expected.status != "expected":
                # A known gap or known noise accepts the verdict, as `harness validate` accepts it: a
                # scenario of several target steps may be half caught (PowerUp's username reads).
                return
            judged[0] += 1
            if alerted != (expected.verdict == "alert"):
                process = event.get("process", {})
                pe = process.get("pe") or {}
                did = "alerted" if alerted else "stayed silent"
                if excepted:
                    did = "matched, but an exception removed the alert"
                raise BatteryError(
                    f"{scenario} in {labels['source']}: expected {expected.verdict} ({expected.origin}), "
                    f"the rule {did}\n"
                    f"query: {context.query}\n"
                    f"process.name: {process.get('name')!r}  process.pe.original_file_name: "
                    f"{pe.get('original_file_name')!r}\nprocess.args: {process.get('args')!r}\n"
                    f"the whole (shrunk) event:\n{json.dumps(event, indent=2)}"
                )

        verdict_matches()
        if not judged[0]:
            pytest.skip(f"{scenario}: every event drawn is a known gap or known noise of the expectations")

    return check


def _golden(context: _Context) -> Any:
    """The golden scenarios corpus validated once per session (seed 7)."""
    from harness.app import Corpus, validate
    from harness.vocabulary import DEFAULT_SEED, Profile

    if context.golden is None:
        context.golden = validate(
            context.rule,
            Corpus(profile=Profile.SCENARIOS, seed=DEFAULT_SEED),
            expect=context.setup.expectations_path,
            catalogue=_catalogue(context).name,
            derived=False,  # judged by the derived tests, one case each
            exceptions=_exceptions(context),
        ).result
    return context.golden


def _scenario_in_golden(context: _Context, scenario: str) -> None:
    """A multi-event rule's scenario: its cells of the golden corpus hold their expectations."""
    result = _golden(context)
    wrong = [v for v in result.violations if v.scenario == scenario]
    if not any(cell.scenario == scenario for cell in result.cells.values()):
        pytest.skip(f"{scenario}: none of its events is in an index the rule reads")
    if wrong:
        lines = [f"{v.kind} in {v.source}: {v.wrong} of {v.events} (expected {v.expected})" for v in wrong]
        raise BatteryError(
            f"{scenario}, searched with the whole golden corpus: "
            + "; ".join(lines)
            + f"\nquery: {context.query}"
        )


def _golden_check(context: _Context) -> None:
    result = _golden(context)
    if result.violations:
        lines = [
            f"{v.kind}: {v.scenario} in {v.source}: {v.wrong} of {v.events} (expected {v.expected})"
            for v in result.violations
        ]
        raise BatteryError("the golden scenarios corpus breaks expectations:\n" + "\n".join(lines))


def _budget_check(context: _Context) -> None:
    from harness.app import Corpus, validate
    from harness.vocabulary import DEFAULT_SEED, Profile

    result = validate(
        context.rule,
        Corpus(profile=Profile.FLEET, events=context.budget_events, seed=DEFAULT_SEED),
        expect=context.setup.expectations_path,
        catalogue=_catalogue(context).name,
        derived=False,
        exceptions=_exceptions(context),
    ).result
    failed = [c for c in result.budget_checks if not c.passed]
    if failed:
        raise BatteryError("; ".join(f"{c.name}: {c.actual} against a limit of {c.limit}" for c in failed))


def _exceptions(context: _Context) -> Any:
    """The exceptions the session set up, handed on as a set (none: ``NO_EXCEPTIONS``)."""
    from harness.app.setup import NO_EXCEPTIONS

    return context.setup.exceptions or NO_EXCEPTIONS


def _catalogue(context: _Context) -> Any:
    """The rule's catalogue; a test that needs one is skipped, saying why, for a rule none covers."""
    if context.catalogue is None:
        pytest.skip(f"{context.rule.path}: no scenario catalogue covers this rule (give --catalogue NAME)")
    return context.catalogue


@pytest.fixture
def rule(request: pytest.FixtureRequest) -> Any:
    """The rule given with ``--rule``."""
    return _context(request.config).rule


@pytest.fixture
def matcher(request: pytest.FixtureRequest) -> Any:
    """The rule's compiled query: a Matcher, or for a sequence, sample or piped rule a Searcher."""
    return _context(request.config).matcher


@pytest.fixture
def expectations(request: pytest.FixtureRequest) -> Any:
    """The rule's expectations (its .expect.toml, or ``--expect``)."""
    return _context(request.config).expectations


@pytest.fixture
def golden_corpus(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The rule's catalogue as the scenarios corpus (seed 7), as documents."""
    from harness.app.analysis import scenario_documents
    from harness.vocabulary import DEFAULT_SEED

    context = _context(request.config)
    _catalogue(context)
    return scenario_documents(context.setup, DEFAULT_SEED, "the golden corpus")


@pytest.fixture
def malicious_events(request: pytest.FixtureRequest) -> Any:
    """A strategy factory over the rule's catalogue: ``malicious_events(source=None)``."""
    from generators.strategies import malicious_events as strategy

    return partial(strategy, catalogue=_catalogue(_context(request.config)))


@pytest.fixture
def benign_events(request: pytest.FixtureRequest) -> Any:
    """A strategy factory over the rule's catalogue: ``benign_events(source=None, background=True)``."""
    from generators.strategies import benign_events as strategy

    return partial(strategy, catalogue=_catalogue(_context(request.config)))


@pytest.fixture
def scenario_events(request: pytest.FixtureRequest) -> Any:
    """A strategy factory: ``scenario_events(scenario=None, source=None, intent=None)`` over the catalogue."""
    from generators.strategies import process_events

    return partial(process_events, catalogue=_catalogue(_context(request.config)))

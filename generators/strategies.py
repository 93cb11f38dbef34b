"""Hypothesis strategies for labelled process events, in the style of Hypothesis's own.

Every choice (scenario, source, host, pool, time, process ids, which step of a chain)
is a Hypothesis draw from pools built once, so a failing example shrinks towards the
first scenario of the catalogue, the first source and the smallest numbers::

    from hypothesis import given
    from generators.strategies import malicious_appcmd_events

    @given(malicious_appcmd_events(source="endpoint"))
    def test_rule_catches_dumps(event):
        assert matcher.matches(event), event["labels"]["scenario"]
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from generators.background import BACKGROUND
from generators.derive import Derivation, NearMiss, StatementDerivation, Witness, derive, derive_statement
from generators.fleet import small_fleet
from generators.images import image
from generators.model import INTENTS, Launch, Parent
from generators.profiles import DEFAULT_START, scenario_sources
from generators.scenarios import Catalogue, IisContext, Scenario, build_launches
from generators.sources import SOURCES, Source
from harness.eql import FieldMapping, Query, Statement, parse_query, parse_statement

__all__ = [
    "benign_events",
    "events_matching",
    "launches",
    "malicious_events",
    "near_misses",
    "process_events",
    "sequence_near_misses",
    "sequences_matching",
]

_EPOCH_NS = int(DEFAULT_START.timestamp()) * 1_000_000_000
_WEEK_S = 7 * 86_400


def _check_choice(name: str, value: str | None, choices: list[str]) -> None:
    if value is not None and value not in choices:
        raise ValueError(f"{name}={value!r} is not one of: {', '.join(choices)}")


def _scenarios(catalogue: Catalogue, scenario: str | None, intent: str | None) -> list[Scenario]:
    if not isinstance(catalogue, Catalogue):
        raise TypeError(
            f"catalogue must be a Catalogue (generators.catalogues.get_catalogue), not {catalogue!r}"
        )
    _check_choice("scenario", scenario, list(catalogue.scenarios))
    _check_choice("intent", intent, list(INTENTS))
    chosen = [
        s
        for s in catalogue.scenarios.values()
        if (scenario is None or s.id == scenario) and (intent is None or s.intent == intent)
    ]
    if not chosen:
        raise ValueError(f"no scenario matches scenario={scenario!r}, intent={intent!r}")
    return chosen


@st.composite
def _scenario_launch(draw: st.DrawFn, chosen: list[Scenario], target_only: bool) -> Launch:
    fleet = small_fleet()
    scenario = draw(st.sampled_from(chosen))
    if scenario.os_type == "windows":
        host_index = draw(st.sampled_from(sorted(fleet.iis)))
    else:
        host_index = fleet.hosts_with_role("linux-server")[0]
    site = fleet.iis.get(host_index) or fleet.iis[min(fleet.iis)]
    rotation = draw(st.integers(0, len(site.pools) - 1))
    pids = iter(draw(st.lists(st.integers(1, 16_000), min_size=64, max_size=64)))
    entities = iter(draw(st.lists(st.integers(0, 2**63 - 1), min_size=64, max_size=64)))
    ctx = IisContext(
        host=fleet.hosts[host_index],
        apppool_user=site.pool_users[rotation],
        admin=fleet.admins[draw(st.integers(0, len(fleet.admins) - 1))],
        system=fleet.system,
        pools=site.pools[rotation:] + site.pools[:rotation],
        sites=site.sites,
        vdirs=site.vdirs,
        start_ns=_EPOCH_NS + draw(st.integers(0, _WEEK_S)) * 1_000_000_000,
        next_pid=lambda: next(pids) * 4,
        next_entity_id=lambda: f"{next(entities):032x}",
    )
    steps = build_launches(scenario, ctx)
    candidates = [launch for launch in steps if launch.label.role == "target"] if target_only else steps
    launch = candidates[draw(st.integers(0, len(candidates) - 1))]
    launch.record_id = draw(st.integers(1, 10_000_000))
    return launch


@st.composite
def _background_launch(draw: st.DrawFn) -> Launch:
    fleet = small_fleet()
    k = draw(st.integers(0, len(fleet.processes) - 1))
    spec = fleet.processes[k]
    hosts = [i for i, h in enumerate(fleet.hosts) if h.role in spec.roles and h.os_type == "windows"]
    host_index = draw(st.sampled_from(hosts))
    variant = draw(st.sampled_from(fleet.variants[k]))
    parent_key = draw(st.sampled_from(spec.parents))
    parent_image = image(parent_key)
    parent_line = parent_image.executable
    users = (
        [fleet.system] if spec.user == "system" else [*fleet.admins, fleet.people[fleet.owners[host_index]]]
    )
    entity = draw(st.integers(0, 2**63 - 1))
    return Launch(
        timestamp_ns=_EPOCH_NS + draw(st.integers(0, _WEEK_S)) * 1_000_000_000,
        host=fleet.hosts[host_index],
        user=draw(st.sampled_from(users)),
        image=image(spec.image),
        args=variant.args,
        command_line=variant.command_line,
        pid=draw(st.integers(1, 16_000)) * 4,
        entity_id=f"{entity:032x}",
        parent=Parent(
            parent_image, (parent_line,), parent_line, draw(st.integers(1, 16_000)) * 4, f"{entity:032X}"
        ),
        label=BACKGROUND,
        record_id=draw(st.integers(1, 10_000_000)),
    )


def launches(
    *,
    catalogue: Catalogue,
    scenario: str | None = None,
    intent: str | None = None,
    target_only: bool = True,
) -> st.SearchStrategy[Launch]:
    """Source-independent launches of ``catalogue``'s scenarios.

    ``scenario`` picks one scenario by id, ``intent`` one intent; ``target_only`` leaves
    out the context events of chains (the shell a web shell opens).
    """
    return _scenario_launch(_scenarios(catalogue, scenario, intent), target_only)


def _render(
    launch_strategy: st.SearchStrategy[Launch], source: str | None, catalogue: Catalogue
) -> st.SearchStrategy[dict[str, Any]]:
    _check_choice("source", source, list(SOURCES))

    @st.composite
    def render(draw: st.DrawFn) -> dict[str, Any]:
        launch = draw(launch_strategy)
        applicable = _sources_for(launch, catalogue)
        if source is not None:
            src = SOURCES[source]
            assume(src in applicable)  # a Linux host has no Sysmon for Windows, no 4688
        else:
            src = draw(st.sampled_from(applicable))
        document: dict[str, Any] = _copy(src.render(launch))
        return document

    return render()


def _sources_for(launch: Launch, catalogue: Catalogue) -> list[Source]:
    if launch.label.scenario in catalogue.scenarios:
        return scenario_sources(catalogue.scenarios[launch.label.scenario])
    return list(SOURCES.values())


def _copy(value: Any) -> Any:
    """Documents share blocks between them; hand out copies a test may change."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(item) for item in value]
    return value


def process_events(
    *,
    catalogue: Catalogue,
    scenario: str | None = None,
    source: str | None = None,
    intent: str | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Documents of ``catalogue``'s scenarios, as ``source`` (default: any that applies) indexes them.

    >>> appcmd = get_catalogue("appcmd")  # doctest: +SKIP
    >>> process_events(catalogue=appcmd, scenario="appcmd-list-apppool-text-star")  # doctest: +SKIP
    """
    return _render(launches(catalogue=catalogue, scenario=scenario, intent=intent), source, catalogue)


def malicious_events(*, catalogue: Catalogue, source: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """The events of ``catalogue``'s malicious scenarios that a rule should judge (chain context left out)."""
    return _render(launches(catalogue=catalogue, intent="malicious"), source, catalogue)


def benign_events(
    *, catalogue: Catalogue, source: str | None = None, background: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """``catalogue``'s benign scenarios (administration, look-alikes), and fleet background if asked."""
    benign = launches(catalogue=catalogue, intent="benign")
    return _render(st.one_of(benign, _background_launch()) if background else benign, source, catalogue)


def events_matching(
    query: str | Query, *, source: str | None = None, mapping: FieldMapping | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Derived witnesses of ``query`` (text or parsed), as ``source`` writes them (default: the query's own).

    A failing example shrinks toward the first witness of the first branch: the plainest
    event the query is meant to catch. Raises ValueError when nothing can be derived.

    >>> events_matching('process where process.name : "appcmd.exe"', source="endpoint")  # doctest: +SKIP
    """
    return _derived(query, source, mapping, witnesses=True)


def near_misses(
    query: str | Query, *, source: str | None = None, mapping: FieldMapping | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Derived near misses of ``query``: one predicate falsified, so the query must stay silent."""
    return _derived(query, source, mapping, witnesses=False)


def _derived(
    query: str | Query, source: str | None, mapping: FieldMapping | None, witnesses: bool
) -> st.SearchStrategy[dict[str, Any]]:
    _check_choice("source", source, list(SOURCES))
    parsed = parse_query(query, mapping=mapping) if isinstance(query, str) else query
    derivation = _derivation(parsed, mapping)
    events: tuple[Witness | NearMiss, ...] = derivation.witnesses if witnesses else derivation.near_misses
    if source is None:
        documents = [event.document for event in events]
    else:
        # A witness only where the source can write it; a near miss wherever it is rendered.
        wanted = "alerts" if witnesses else "silent"
        documents = [
            r.document
            for e in events
            for r in e.renderings
            if r.source == source and r.status == wanted and r.document
        ]
    if not documents:
        what = "witness" if witnesses else "near miss"
        where = f" that {source} can write" if source else ""
        raise ValueError(f"no derived {what} of {str(parsed)!r}{where}")
    return st.sampled_from(documents).map(_copy)


@lru_cache(maxsize=64)
def _derivation(query: Query, mapping: FieldMapping | None) -> Derivation:
    return derive(query, name="strategy", mapping=mapping)


def sequences_matching(
    statement: str | Statement, *, source: str | None = None, mapping: FieldMapping | None = None
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Linked chains a ``sequence`` or ``sample`` (text or parsed) must find, in a drawn order.

    Each chain is a derived witness (``generators.derive.derive_statement``): one event per
    stage on one host, joined on the statement's keys and placed inside its ``maxspan``; the
    search sorts events itself, so the order they come in is drawn too. ``source`` None gives
    the chains as the statement reads them; a source name, the chains it can write. Shrinks
    toward the first chain in stage order. Raises ValueError when no chain is derived.

    >>> sequences_matching("sequence by host.id [process where true] [process where true]")  # doctest: +SKIP
    """
    return _chains(statement, source, mapping, witnesses=True)


def sequence_near_misses(
    statement: str | Statement, *, source: str | None = None, mapping: FieldMapping | None = None
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Derived near-miss chains (a stage dropped, a key changed, the span exceeded...): nothing to find."""
    return _chains(statement, source, mapping, witnesses=False)


def _chains(
    statement: str | Statement, source: str | None, mapping: FieldMapping | None, witnesses: bool
) -> st.SearchStrategy[list[dict[str, Any]]]:
    _check_choice("source", source, list(SOURCES))
    parsed = parse_statement(statement, mapping=mapping) if isinstance(statement, str) else statement
    if isinstance(parsed, Query):
        raise ValueError("a single-event query: use events_matching or near_misses")
    derivation = _statement_derivation(parsed, mapping)
    chains = derivation.witnesses if witnesses else derivation.near_misses
    if source is None:
        found = [chain.documents for chain in chains]
    else:
        wanted = "alerts" if witnesses else "silent"
        found = [
            r.documents for c in chains for r in c.renderings if r.source == source and r.status == wanted
        ]
    if not found:
        what = "witness chain" if witnesses else "near-miss chain"
        where = f" that {source} can write" if source else ""
        raise ValueError(f"no derived {what} of {str(parsed)!r}{where}")
    return st.sampled_from(found).flatmap(st.permutations).map(lambda docs: [_copy(doc) for doc in docs])


@lru_cache(maxsize=64)
def _statement_derivation(statement: Statement, mapping: FieldMapping | None) -> StatementDerivation:
    return derive_statement(statement, name="strategy", mapping=mapping)

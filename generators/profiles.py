"""Corpus profiles: which launches a corpus holds, in which source, in time order.

* ``scenarios``: every scenario of the catalogue in every source it applies to;
* ``fleet``: days of a fleet's background, with IIS administration and, at a chosen
  rate, attacks from the catalogue; each host reports through one source;
* ``mixed``: a day of background with a tenth of the events from scenarios of every
  intent, for tests that want many labelled positives and negatives in one file.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from generators.background import (
    DAY_NS,
    BackgroundDay,
    BackgroundPools,
    background_launches,
    background_pools,
    day_weights,
    draw_background,
)
from generators.fleet import Fleet, build_fleet
from generators.model import Launch
from generators.scenarios import Catalogue, IisContext, Scenario, build_launches
from generators.sources import SOURCES, Source, fleet_shares, sources_on
from harness.vocabulary import DEFAULT_SEED, MAX_DAYS, MAX_EVENTS, MAX_RATE, MAX_SEED

__all__ = [
    "EARLIEST_START",
    "LATEST_END",
    "PROFILES",
    "CorpusOptions",
    "FleetPlan",
    "corpus_launches",
    "fleet_plan",
    "record_numbers",
    "scenario_sources",
]

PROFILES = ("scenarios", "fleet", "mixed")
DEFAULT_START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday; fixed, so a seed means the same bytes
# The corpus's days must lie where numpy's datetime64[ns] reaches (1677 to 2262), and after the epoch.
EARLIEST_START = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_END = datetime(2200, 1, 1, tzinfo=UTC)
# How a Windows estate reports: most hosts through Defend, the rest through what they have.
_SOURCE_SHARE = fleet_shares()


@dataclass(frozen=True)
class CorpusOptions:
    profile: str = "scenarios"
    events: int | None = None  # None: the profile's natural size (one round of scenarios; 100,000 otherwise)
    seed: int = DEFAULT_SEED
    days: int = 7
    start: datetime = DEFAULT_START
    attack_rate: float = 20.0  # malicious scenario runs per million events (fleet)
    admin_rate: float = 400.0  # IIS administration runs per million events (fleet)
    # The scenarios a corpus holds; a fleet without one is background alone.
    catalogue: Catalogue | None = None

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose one of {', '.join(PROFILES)}")
        if self.events is not None and not 0 <= self.events <= MAX_EVENTS:
            raise ValueError(f"events must be from 0 to {MAX_EVENTS:,}, not {self.events}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be from 0 to {MAX_SEED}, not {self.seed}")
        if not 1 <= self.days <= MAX_DAYS:
            raise ValueError(f"days must be from 1 to {MAX_DAYS:,}, not {self.days}")
        # "not <=" also refuses NaN, which every comparison calls false.
        if not (0 <= self.attack_rate <= MAX_RATE and 0 <= self.admin_rate <= MAX_RATE):
            raise ValueError(f"rates must be from 0 to {MAX_RATE:,.0f} runs per million events")
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        if not EARLIEST_START <= self.start <= LATEST_END - timedelta(days=self.days):
            raise ValueError(
                f"start must leave the corpus's {self.days} day(s) between {EARLIEST_START:%Y-%m-%d} and "
                f"{LATEST_END:%Y-%m-%d}, not {self.start:%Y-%m-%d}"
            )
        if self.catalogue is None and self.profile != "fleet":
            raise ValueError(
                f"the {self.profile} profile runs a scenario catalogue's scenarios: give catalogue=..."
            )

    @property
    def scenarios(self) -> list[Scenario]:
        """The catalogue's scenarios, in catalogue order; none for a fleet without a catalogue."""
        return [] if self.catalogue is None else list(self.catalogue.scenarios.values())


def scenario_sources(scenario: Scenario) -> list[Source]:
    """The sources a scenario is rendered in: every source on Windows; Defend elsewhere."""
    return sources_on(scenario.os_type)


def corpus_launches(options: CorpusOptions) -> Iterator[tuple[Launch, Source]]:
    """The launches of a corpus with the source each is rendered in, in time order."""
    if options.profile == "scenarios":
        fleet = build_fleet(options.seed)
        rng = np.random.default_rng(options.seed)
        start_ns = int(options.start.timestamp()) * 1_000_000_000
        stream = _scenario_rounds(fleet, rng, start_ns, options.scenarios, forever=options.events is not None)
    else:
        stream = _fleet_stream(options)
    yield from _numbered(itertools.islice(stream, options.events) if options.events is not None else stream)


FIRST_RECORD = 100_001  # each host's first event-log record number in a corpus


def _numbered(stream: Iterator[tuple[Launch, Source]]) -> Iterator[tuple[Launch, Source]]:
    """Give each event its host's next event-log record number."""
    counters: dict[int, int] = {}
    for launch, src in stream:
        key = id(launch.host)
        counters[key] = counters.get(key, FIRST_RECORD - 1) + 1
        launch.record_id = counters[key]
        yield launch, src


def record_numbers(hosts: np.ndarray, counters: dict[int, int]) -> np.ndarray:
    """Vectorized :func:`_numbered`: each row's record number, given each host index's last one so far."""
    records = np.empty(len(hosts), dtype=np.int64)
    for h in np.unique(hosts).tolist():
        rows = np.flatnonzero(hosts == h)
        first = counters.get(h, FIRST_RECORD - 1) + 1
        records[rows] = np.arange(first, first + len(rows))
        counters[h] = first + len(rows) - 1
    return records


def _context(fleet: Fleet, rng: np.random.Generator, start_ns: int, host_index: int) -> IisContext:
    site = fleet.iis[host_index]
    pick = int(rng.integers(0, len(site.pools)))

    def next_pid() -> int:
        return int(rng.integers(100, 16_000)) * 4

    def next_entity_id() -> str:
        return f"{int(rng.integers(0, 2**63)):016x}{int(rng.integers(0, 2**63)):016x}"

    return IisContext(
        host=fleet.hosts[host_index],
        apppool_user=site.pool_users[pick],
        admin=fleet.admins[int(rng.integers(0, len(fleet.admins)))],
        system=fleet.system,
        pools=site.pools[pick:] + site.pools[:pick],
        sites=site.sites,
        vdirs=site.vdirs,
        start_ns=start_ns,
        next_pid=next_pid,
        next_entity_id=next_entity_id,
    )


def _linux_host(fleet: Fleet) -> int:
    linux = fleet.hosts_with_role("linux-server")
    return linux[0] if linux else 0


def _scenario_launches(
    fleet: Fleet, rng: np.random.Generator, scenario: Scenario, start_ns: int
) -> list[Launch]:
    iis_hosts = sorted(fleet.iis)
    host_index = iis_hosts[int(rng.integers(0, len(iis_hosts)))]
    ctx = _context(fleet, rng, start_ns, host_index)
    if scenario.os_type != "windows":
        linux = fleet.hosts[_linux_host(fleet)]
        ctx = IisContext(
            linux,
            ctx.apppool_user,
            ctx.admin,
            ctx.system,
            ctx.pools,
            ctx.sites,
            ctx.vdirs,
            start_ns,
            ctx.next_pid,
            ctx.next_entity_id,
        )
    return build_launches(scenario, ctx)


def _scenario_rounds(
    fleet: Fleet, rng: np.random.Generator, start_ns: int, scenarios: list[Scenario], *, forever: bool
) -> Iterator[tuple[Launch, Source]]:
    """Every scenario in every source, a minute apart: one round, or round after round."""
    clock = start_ns + 9 * 3_600 * 1_000_000_000
    for _ in itertools.count() if forever else range(1):
        for scenario in scenarios:
            for src in scenario_sources(scenario):
                for launch in _scenario_launches(fleet, rng, scenario, clock):
                    yield launch, src
                clock += 60 * 1_000_000_000


def _host_sources(fleet: Fleet, seed: int) -> dict[int, Source]:
    """Which source each host reports through, keyed by the host object's id."""
    rng = np.random.default_rng([seed, 1])  # its own stream: the assignment does not shift with other draws
    names = list(_SOURCE_SHARE)
    shares = np.array([_SOURCE_SHARE[n] for n in names])
    picks = rng.choice(len(names), size=len(fleet.hosts), p=shares / shares.sum())
    return {
        id(h): SOURCES[names[int(p)]] if h.os_type == "windows" else sources_on(h.os_type)[0]
        for h, p in zip(fleet.hosts, picks, strict=True)
    }


@dataclass
class FleetPlan:
    """A fleet or mixed corpus, day by day: background draws and the scenario runs injected."""

    fleet: Fleet
    pools: BackgroundPools
    sources: dict[int, Source]  # host object id -> the source it reports through
    days: Iterator[tuple[BackgroundDay, list[tuple[Launch, Source]]]]


def fleet_plan(options: CorpusOptions) -> FleetPlan:
    """The plan of a ``fleet`` or ``mixed`` corpus; the same draws whichever writer renders it."""
    if options.profile == "scenarios":
        raise ValueError("the scenarios profile has no fleet plan")
    fleet = build_fleet(options.seed)
    rng = np.random.default_rng(options.seed)
    start_ns = int(options.start.timestamp()) * 1_000_000_000
    days = 1 if options.profile == "mixed" else options.days
    total = 100_000 if options.events is None else options.events
    sources = _host_sources(fleet, options.seed)
    pools = background_pools(fleet)
    injected = _injected(fleet, rng, start_ns, days, total, options, sources)
    background_total = max(0, total - len(injected))
    weights = day_weights(fleet, start_ns, days)
    per_day = np.floor(weights / weights.sum() * background_total).astype(int)
    per_day[: background_total - int(per_day.sum())] += 1

    def plan() -> Iterator[tuple[BackgroundDay, list[tuple[Launch, Source]]]]:
        for day in range(days):
            day_start = start_ns + day * DAY_NS
            todays = [item for item in injected if day_start <= item[0].timestamp_ns < day_start + DAY_NS]
            yield draw_background(fleet, pools, rng, day_start, int(per_day[day])), todays

    return FleetPlan(fleet, pools, sources, plan())


def _fleet_stream(options: CorpusOptions) -> Iterator[tuple[Launch, Source]]:
    plan = fleet_plan(options)
    for day, todays in plan.days:
        background = (
            (launch, plan.sources[id(launch.host)])
            for launch in background_launches(plan.fleet, plan.pools, day)
        )
        yield from heapq.merge(background, todays, key=lambda item: item[0].timestamp_ns)


def _injected(
    fleet: Fleet,
    rng: np.random.Generator,
    start_ns: int,
    days: int,
    total: int,
    options: CorpusOptions,
    sources: dict[int, Source],
) -> list[tuple[Launch, Source]]:
    """The scenario runs a fleet or mixed corpus holds, each in its host's source."""
    by_intent: dict[str, list[Scenario]] = {}
    for s in options.scenarios:
        by_intent.setdefault(s.intent, []).append(s)
    if options.profile == "mixed":
        plan = {"malicious": total // 25, "benign": total // 25, "out-of-scope": total // 50}
    else:
        plan = {
            "malicious": round(total * options.attack_rate / 1e6),
            "benign": round(total * options.admin_rate / 1e6),
        }
    runs: list[tuple[Launch, Source]] = []
    budget = total
    for intent, count in plan.items():
        pool = by_intent.get(intent, [])
        if not pool:
            continue  # a catalogue without this intent (or none): background takes its share
        for _ in range(count):
            scenario = pool[int(rng.integers(0, len(pool)))]
            day = int(rng.integers(0, days))
            at = start_ns + day * DAY_NS + int(rng.integers(8 * 3600, 18 * 3600)) * 1_000_000_000
            launches = _scenario_launches(fleet, rng, scenario, at)
            if len(launches) > budget:
                continue
            budget -= len(launches)
            runs.extend((launch, sources[id(launch.host)]) for launch in launches)
    runs.sort(key=lambda item: item[0].timestamp_ns)
    return runs

"""The background of a fleet: what its hosts start, when, as whom, drawn with numpy.

Draws are made in columns (process, host, time, variant, user, pids) for a whole
day at once, then turned into :class:`Launch` objects in time order. Nothing here
calls Faker: the pools were filled when the fleet was built.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from generators.catalogue import PARENT_COMMAND_LINES, SERVICE_HOSTS
from generators.fleet import Fleet, Variant
from generators.images import IMAGES, image
from generators.model import Label, Launch, Parent, User
from generators.winargs import split_command_line

__all__ = [
    "BACKGROUND",
    "BackgroundDay",
    "BackgroundPools",
    "background_launches",
    "background_pools",
    "day_weights",
    "draw_background",
    "user_choices",
    "user_for",
]

BACKGROUND = Label("fleet-background", "benign")
DAY_NS = 86_400 * 1_000_000_000
HOUR_NS = 3_600 * 1_000_000_000


def _hour_weights(rhythm: str, weekday: int) -> np.ndarray:
    hours = np.arange(24)
    if rhythm == "office":
        if weekday >= 5:
            return np.full(24, 0.05)
        weights = np.where((hours >= 8) & (hours < 18), 1.0, 0.04)
        weights[[7, 18]] = 0.35
        return weights
    if rhythm == "nightly":
        return np.where((hours >= 1) & (hours < 4), 1.0, 0.02)
    return np.ones(24)


def day_weights(fleet: Fleet, start_ns: int, days: int) -> np.ndarray:
    """How busy each day is relative to the others (weekends are quiet on workstations)."""
    weights = np.empty(days)
    total = sum(spec.weight for spec in fleet.processes)
    for day in range(days):
        weekday = int((start_ns // DAY_NS + 3 + day) % 7)  # 1970-01-01 was a Thursday
        weights[day] = (
            sum(spec.weight * _hour_weights(spec.rhythm, weekday).mean() for spec in fleet.processes) / total
        )
    return weights


ParentOption = tuple[str, tuple[str, ...], str]  # image key, argument vector, command line


@dataclass
class BackgroundPools:
    """Per-process lookups, computed once per fleet."""

    eligible: list[np.ndarray]
    weights: np.ndarray
    parents: list[list[list[ParentOption]]]  # per process, per variant: the parents that start it
    parent_counts: list[np.ndarray]  # per process: how many parents each variant has


def background_pools(fleet: Fleet) -> BackgroundPools:
    eligible = []
    for spec in fleet.processes:
        hosts = np.array(
            [i for i, h in enumerate(fleet.hosts) if h.role in spec.roles and h.os_type == "windows"]
        )
        eligible.append(hosts)
    weights = np.array(
        [spec.weight if len(e) else 0.0 for spec, e in zip(fleet.processes, eligible, strict=True)]
    )
    by_image = {spec.image: k for k, spec in enumerate(fleet.processes)}
    parents = [[_parent_options(fleet, by_image, v) for v in variants] for variants in fleet.variants]
    counts = [np.array([len(options) for options in per_variant]) for per_variant in parents]
    return BackgroundPools(eligible, weights / weights.sum(), parents, counts)


def _parent_options(fleet: Fleet, by_image: dict[str, int], variant: Variant) -> list[ParentOption]:
    """The parents a variant may have, each with the command line it runs with."""
    options: list[ParentOption] = []
    for key in variant.parents:
        if key == "svchost":
            line = SERVICE_HOSTS[variant.service]
        elif key in PARENT_COMMAND_LINES:
            line = PARENT_COMMAND_LINES[key]
        elif key in by_image:  # a process of the catalogue: any of its first variants that start others
            starters = [v for v in fleet.variants[by_image[key]] if not v.leaf][:3]
            options.extend((key, v.args, v.command_line) for v in starters)
            continue
        else:
            line = IMAGES[key].executable
        options.append((key, tuple(split_command_line(line)), line))
    return options


@dataclass
class BackgroundDay:
    """One day of background draws, as columns in time order."""

    start_ns: int
    timestamps: np.ndarray  # int64 ns since the epoch
    spec: np.ndarray
    host: np.ndarray
    variant: np.ndarray
    parent: np.ndarray  # index into the process's parent options
    user_pick: np.ndarray
    pid: np.ndarray
    parent_pid: np.ndarray
    entity: np.ndarray  # (n, 2) int64: the two halves of a 128-bit id

    def __len__(self) -> int:
        return len(self.timestamps)


def draw_background(
    fleet: Fleet, pools: BackgroundPools, rng: np.random.Generator, start_ns: int, count: int
) -> BackgroundDay:
    """Draw ``count`` background launches within the day that starts at ``start_ns``."""
    count = max(count, 0)
    weekday = int((start_ns // DAY_NS + 3) % 7)
    spec_index = rng.choice(len(fleet.processes), size=count, p=pools.weights)
    host_index = np.empty(count, dtype=np.int64)
    offsets = np.empty(count, dtype=np.int64)
    for k in np.unique(spec_index):
        mask = spec_index == k
        n = int(mask.sum())
        eligible = pools.eligible[k]
        host_index[mask] = eligible[rng.integers(0, len(eligible), size=n)]
        hourly = _hour_weights(fleet.processes[k].rhythm, weekday)
        hours = rng.choice(24, size=n, p=hourly / hourly.sum())
        offsets[mask] = hours * HOUR_NS + rng.integers(0, HOUR_NS, size=n)
    order = np.argsort(offsets, kind="stable")
    variant_pick = rng.random(count)
    parent_pick = rng.random(count)
    user_pick = rng.random(count)
    pids = rng.integers(100, 16_000, size=count) * 4
    parent_pids = rng.integers(100, 16_000, size=count) * 4
    entity = rng.integers(0, 2**63, size=(count, 2), dtype=np.int64)
    spec_sorted = spec_index[order]
    variant_counts = np.array([len(v) for v in fleet.variants])[spec_sorted]
    variants = (variant_pick[order] * variant_counts).astype(np.int64)
    # A variant's parents are its own: the same pick chooses among however many it has.
    parent_counts = np.zeros(count, dtype=np.int64)
    for k in np.unique(spec_sorted).tolist():
        mine = spec_sorted == k
        parent_counts[mine] = pools.parent_counts[k][variants[mine]]
    return BackgroundDay(
        start_ns=start_ns,
        timestamps=start_ns + offsets[order],
        spec=spec_sorted,
        host=host_index[order],
        variant=variants,
        parent=(parent_pick[order] * parent_counts).astype(np.int64),
        user_pick=user_pick[order],
        pid=pids[order],
        parent_pid=parent_pids[order],
        entity=entity[order],
    )


def entity_hex(hi: int, lo: int) -> str:
    return f"{hi:016x}{lo:016x}"


def background_launches(fleet: Fleet, pools: BackgroundPools, day: BackgroundDay) -> Iterator[Launch]:
    """The launches of a drawn day, in time order."""
    for i in range(len(day)):
        k, v = int(day.spec[i]), int(day.variant[i])
        variant = fleet.variants[k][v]
        h = int(day.host[i])
        parent_key, parent_args, parent_line = pools.parents[k][v][int(day.parent[i])]
        entity_id = entity_hex(int(day.entity[i, 0]), int(day.entity[i, 1]))
        parent = Parent(image(parent_key), parent_args, parent_line, int(day.parent_pid[i]), entity_id[::-1])
        yield Launch(
            timestamp_ns=int(day.timestamps[i]),
            host=fleet.hosts[h],
            user=user_for(fleet, variant.user, h, float(day.user_pick[i])),
            image=image(fleet.processes[k].image),
            args=variant.args,
            command_line=variant.command_line,
            pid=int(day.pid[i]),
            entity_id=entity_id,
            parent=parent,
            label=BACKGROUND,
        )


def user_for(fleet: Fleet, kind: str, host_index: int, pick: float) -> User:
    """Who runs a process of this kind on this host (``pick`` in [0, 1) chooses among several)."""
    choices = user_choices(fleet, kind, host_index)
    return choices[int(pick * len(choices))]


def user_choices(fleet: Fleet, kind: str, host_index: int) -> Sequence[User]:
    """The accounts that may run a process of this kind on this host, in the order a pick chooses from."""
    if kind == "system":
        return (fleet.system,)
    if kind == "local-service":
        return (fleet.local_service,)
    if kind == "network-service":
        return (fleet.network_service,)
    if kind == "person" and fleet.hosts[host_index].role == "workstation":
        return (fleet.people[fleet.owners[host_index]],)
    if kind in ("person", "admin"):
        return fleet.admins
    if kind == "apppool" and host_index in fleet.iis:
        return fleet.iis[host_index].pool_users
    return fleet.services

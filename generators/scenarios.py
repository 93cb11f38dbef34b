"""Scenarios: labelled sequences of process launches, and how they become Launch objects.

A scenario is data (id, intent, ATT&CK ids, description, public source, steps); the
steps are command templates run on an IIS host, one after another, each the child of
the previous one unless it names its own parent. Templates take ``{pool}``, ``{site}``
and ``{vdir}`` from the host's IIS configuration; a step marked ``per_pool`` (or
``per_vdir``) runs once for each of them, as enumeration scripts do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generators.images import image
from generators.model import INTENTS, Host, Label, Launch, Parent, User
from generators.winargs import join_command_line, split_command_line

__all__ = ["Catalogue", "IisContext", "Scenario", "Step", "build_launches"]


@dataclass(frozen=True)
class Step:
    """One process start: ``image`` is a key of :data:`generators.images.IMAGES`."""

    image: str
    command_line: str
    user: str = "apppool"  # apppool, admin or system: who runs it
    parent: tuple[str, str] | None = None  # (image key, command line); None: the previous step
    per_pool: bool = False
    per_vdir: bool = False
    action: str = "start"
    target: bool = True  # False for the context of a chain (the shell a web shell opens)


@dataclass(frozen=True)
class Scenario:
    id: str
    intent: str
    attack: tuple[str, ...]
    description: str
    reference: str
    steps: tuple[Step, ...]
    os_type: str = "windows"

    def __post_init__(self) -> None:
        if self.intent not in INTENTS:
            raise ValueError(f"{self.id}: intent must be one of {INTENTS}, not {self.intent!r}")
        if not self.steps:
            raise ValueError(f"{self.id}: a scenario needs at least one step")

    @property
    def label(self) -> Label:
        return Label(self.id, self.intent, self.attack)


@dataclass(frozen=True)
class Catalogue:
    """Scenarios for one behaviour, the background they assume, and the ATT&CK techniques they cover.

    ``background`` names the fleet model the scenarios run in (``windows-iis-fleet``: the
    Windows estate of :mod:`generators.fleet`, whose IIS servers host the scenarios).
    """

    name: str
    title: str
    description: str
    scenarios: Mapping[str, Scenario]
    techniques: tuple[str, ...]
    background: str
    # Rule versions by hand (rule id, version -> predicate), timed by ``harness bench`` as a baseline.
    baselines: Mapping[tuple[str, int], Callable[[Mapping[str, Any]], bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.scenarios:
            raise ValueError(f"catalogue {self.name!r} holds no scenario")
        for sid, scenario in self.scenarios.items():
            if sid != scenario.id:
                raise ValueError(f"catalogue {self.name!r}: {sid!r} holds scenario {scenario.id!r}")

    def scenario(self, sid: str) -> Scenario:
        """The scenario with id ``sid``; a KeyError names the catalogue."""
        try:
            return self.scenarios[sid]
        except KeyError:
            raise KeyError(f"no scenario {sid!r} in catalogue {self.name!r}") from None

    def by_intent(self, intent: str) -> list[Scenario]:
        return [s for s in self.scenarios.values() if s.intent == intent]


@dataclass(frozen=True)
class IisContext:
    """Where and as whom a scenario runs, and how to number what it starts."""

    host: Host
    apppool_user: User
    admin: User
    system: User
    pools: tuple[str, ...]
    sites: tuple[str, ...]
    vdirs: tuple[str, ...]
    start_ns: int
    next_pid: Callable[[], int]
    next_entity_id: Callable[[], str]
    step_ns: int = 1_500_000_000  # 1.5 s between the steps of a chain
    worker_pid: int = 4242


_W3WP_COMMAND = (
    'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "{pool}" -v "v4.0" -l "webengine4.dll" '
    "-a \\\\.\\pipe\\iisipm"
)


def build_launches(scenario: Scenario, ctx: IisContext) -> list[Launch]:
    """The launches of ``scenario`` on ``ctx.host``, in time order."""
    values = {"pool": ctx.pools[0], "site": ctx.sites[0], "vdir": ctx.vdirs[0]}
    worker = image("w3wp")
    worker_args = tuple(split_command_line(_fill(_W3WP_COMMAND, values)))
    previous = Parent(
        worker, worker_args, join_command_line(worker_args), ctx.worker_pid, ctx.next_entity_id()
    )
    launches: list[Launch] = []
    clock = ctx.start_ns
    for step in scenario.steps:
        for bindings in _expansions(step, ctx, values):
            args = tuple(split_command_line(_fill(step.command_line, bindings)))
            img = image(step.image)
            parent = previous
            if step.parent is not None:
                parent_image, parent_command = step.parent
                parent_args = tuple(split_command_line(_fill(parent_command, bindings)))
                parent = Parent(
                    image(parent_image),
                    parent_args,
                    _fill(parent_command, bindings),
                    ctx.next_pid(),
                    ctx.next_entity_id(),
                )
            pid, entity_id = ctx.next_pid(), ctx.next_entity_id()
            launches.append(
                Launch(
                    timestamp_ns=clock,
                    host=ctx.host,
                    user=_user(step.user, ctx),
                    image=img,
                    args=args,
                    command_line=_fill(step.command_line, bindings),
                    pid=pid,
                    entity_id=entity_id,
                    parent=parent,
                    label=Label(
                        scenario.id, scenario.intent, scenario.attack, "target" if step.target else "context"
                    ),
                    working_directory="C:\\Windows\\system32\\inetsrv\\"
                    if step.user == "apppool"
                    else "C:\\Windows\\system32\\",
                    action=step.action,
                )
            )
            clock += ctx.step_ns
            previous = Parent(img, args, launches[-1].command_line, pid, entity_id)
    return launches


_SLOT = re.compile(r"\{(pool|site|vdir)\}")


def _fill(template: str, bindings: dict[str, str]) -> str:
    """Substitute ``{pool}``, ``{site}``, ``{vdir}`` only: command lines hold other braces."""
    return _SLOT.sub(lambda m: bindings[m.group(1)], template)


def _expansions(step: Step, ctx: IisContext, values: dict[str, str]) -> list[dict[str, str]]:
    if step.per_pool:
        return [{**values, "pool": pool} for pool in ctx.pools]
    if step.per_vdir:
        return [{**values, "vdir": vdir} for vdir in ctx.vdirs]
    return [values]


def _user(kind: str, ctx: IisContext) -> User:
    return {"apppool": ctx.apppool_user, "admin": ctx.admin, "system": ctx.system}[kind]

"""Expectations: what a rule should do on each scenario and source, and the budgets it must keep.

A TOML file beside the rule (``X.toml`` -> ``X.expect.toml``)::

    catalogue = "appcmd"  # the scenario catalogue the rule is judged on

    [defaults]            # for events no entry below names
    malicious = "alert"
    benign = "silent"
    out-of-scope = "silent"

    [budgets]
    max_false_positives_per_million = 100
    min_detection_rate = 0.6

    [sources.security-4688-nocmdline]      # a blind spot of a data source
    expect = "silent"
    status = "known-gap"
    reason = "without command-line auditing there is no process.args"

    [scenarios.appcmd-dash-text]
    expect = "silent"
    status = "known-gap"
    reason = "the rule needs /text, not -text"

    [scenarios.appcmd-renamed.sources.security-4688]
    expect = "silent"
    status = "known-gap"
    reason = "4688 carries no PE original file name"

    [diff.lost.text-attribute-monitoring]  # harness diff: a loss against an earlier version
    where = 'process.args like "/text:*" and not process.args : "/text:*password*"'
    status = "expected"
    reason = "a /text: argument naming no credential is monitoring, dropped on purpose"

The most specific entry wins: scenario and source, then source (a data source's
blind spot, for every intent), then scenario, then the default for the intent.
``known-gap`` accepts a miss, ``known-noise`` an alert on benign activity; both need a
reason.

``[diff.lost.NAME]`` entries are read by ``harness diff`` only: an event derived from
the two queries that the earlier version alerts on and this one does not is accepted
when an entry's ``where`` (an EQL condition, as in a labels sidecar) selects it, in one
of the entry's ``sources`` if it lists them. ``status`` says which kind of loss it is:
``expected`` (the change meant it: the old alert was noise) or ``known-gap`` (a miss we
accept); the reason is required for both.

Scenarios derived from the query (``harness validate`` unless ``--no-derived``) are
judged on their own: a witness must alert and a near miss stay silent in every source
that can write it, whatever the tables above say. ``[derived]`` accepts what is known,
naming a branch (``b1``), a witness (``b1w0``) or a near miss (``b1w0n2``), as the report
names them, and optionally a source::

    [derived.b0w0.sources.sysmon-winlogbeat]
    expect = "silent"
    status = "known-gap"
    reason = "Winlogbeat's process.args start with the executable"

    [derived.sources.security-4688]        # every derived case in one source
    expect = "alert"
    status = "known-noise"
    reason = "4688 keeps quotes, so the exclusion's pattern never matches there"

A ``known-gap`` applies to witnesses only, a ``known-noise`` to near misses only; the
most specific entry wins (the case in the source, its witness, its branch, the source
alone, then the case, its witness, its branch).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.eql import Matcher, compile_query
from harness.errors import HarnessError
from harness.vocabulary import BackgroundScenario, Intent, Status, Verdict, choices

__all__ = [
    "AcceptedLoss",
    "Budgets",
    "Expectation",
    "ExpectationError",
    "Expectations",
    "KnownNames",
    "default_expectations_path",
    "derived_case_prefixes",
    "load_expectations",
]

VERDICTS = tuple(choices(Verdict))
STATUSES = tuple(choices(Status))
INTENTS = tuple(choices(Intent))
# How the report names a derived case: branch, witness of the branch, near miss of the witness.
DERIVED_KEY = re.compile(r"(b\d+)(?:(w\d+)(n\d+)?)?")


@dataclass(frozen=True)
class KnownNames:
    """What an expectations file may name: data sources, and each catalogue's scenario ids.

    ``scenarios_of(name)`` raises ``LookupError`` (with a message listing the catalogues) for
    a catalogue that does not exist. The application layer builds this from the generators;
    without it a file's names are taken as written.
    """

    sources: Collection[str]
    scenarios_of: Callable[[str], Collection[str]]


class ExpectationError(HarnessError):
    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path, self.message, self.line = path, message, line
        super().__init__(f"{path}{f':{line}' if line else ''}: {message}")


@dataclass(frozen=True)
class Expectation:
    verdict: str  # alert or silent
    status: str = "expected"  # expected, known-gap or known-noise
    reason: str = ""
    origin: str = "default"  # which entry decided it, for reports


@dataclass(frozen=True)
class AcceptedLoss:
    """``[diff.lost.NAME]``: what an earlier version alerted on that this one misses, meant or known."""

    name: str
    status: str  # expected (the change meant it) or known-gap (a miss we accept)
    reason: str
    where: str | None = None  # an EQL condition on the event; None: every event
    sources: frozenset[str] | None = None  # the data sources it accepts the loss in; None: all
    line: int | None = None
    matcher: Matcher | None = field(default=None, compare=False, repr=False)

    @property
    def origin(self) -> str:
        return f"diff.lost.{self.name}"

    def accepts(self, document: Mapping[str, Any], source: str) -> bool:
        if self.sources is not None and source not in self.sources:
            return False
        return self.matcher is None or self.matcher.matches(document)


@dataclass(frozen=True)
class Budgets:
    max_false_positives_per_million: float | None = None
    min_detection_rate: float | None = None


@dataclass(frozen=True)
class Expectations:
    path: str | None = None
    catalogue: str | None = None  # the scenario catalogue the file names (catalogue = "...")
    defaults: dict[str, str] = field(
        default_factory=lambda: {"malicious": "alert", "benign": "silent", "out-of-scope": "silent"}
    )
    budgets: Budgets = field(default_factory=Budgets)
    sources: dict[str, Expectation] = field(default_factory=dict)
    scenarios: dict[str, Expectation] = field(default_factory=dict)
    scenario_sources: dict[tuple[str, str], Expectation] = field(default_factory=dict)
    rule: str | None = None  # the rule file the expectations belong to (rule = "..."), as written
    rule_line: int | None = None
    lost: tuple[AcceptedLoss, ...] = ()  # [diff.lost.NAME], in the file's order
    # [derived]: known departures on derived scenarios, by (case key or None, source or None).
    derived: dict[tuple[str | None, str | None], Expectation] = field(default_factory=dict)

    def accepted_loss(self, document: Mapping[str, Any], source: str) -> AcceptedLoss | None:
        """The first ``[diff.lost]`` entry that accepts losing ``document`` in ``source``, or None."""
        return next((entry for entry in self.lost if entry.accepts(document, source)), None)

    def expect(self, scenario: str, source: str, intent: str) -> Expectation:
        """The expected verdict for a target event of ``scenario`` seen through ``source``."""
        specific = self.scenario_sources.get((scenario, source))
        if specific is not None:
            return specific
        blind_spot = self.sources.get(source)
        if blind_spot is not None:
            if blind_spot.status == "known-gap":
                if intent == "malicious":
                    return blind_spot
                # What a source cannot show is silent for benign events too, and an alert there is wrong.
                return Expectation("silent", "expected", blind_spot.reason, blind_spot.origin)
            if blind_spot.status == "known-noise":
                if intent == "benign":
                    return blind_spot  # noise this source makes, accepted: it does not excuse misses
            else:
                return blind_spot
        listed = self.scenarios.get(scenario)
        if listed is not None:
            return listed
        return Expectation(self.defaults.get(intent, "silent"), origin=f"default for {intent}")

    def expect_derived(self, key: str, source: str, intent: str) -> Expectation:
        """The expected verdict for derived case ``key`` (``b0w0``, ``b0w0n2``) in ``source``.

        A witness (malicious) should alert and a near miss (benign) stay silent; only a
        ``[derived]`` entry of the matching kind says otherwise.
        """
        accepts = Status.KNOWN_GAP if intent == Intent.MALICIOUS else Status.KNOWN_NOISE
        prefixes = derived_case_prefixes(key)
        order = [*((p, source) for p in prefixes), (None, source), *((p, None) for p in prefixes)]
        for place in order:
            entry = self.derived.get(place)
            if entry is not None and entry.status == accepts:
                return entry
        kind = "witness" if intent == Intent.MALICIOUS else "near miss"
        verdict = Verdict.ALERT if intent == Intent.MALICIOUS else Verdict.SILENT
        return Expectation(verdict, origin=f"derived {kind}")


def derived_case_prefixes(key: str) -> list[str]:
    """``b0w0n2`` -> ``["b0w0n2", "b0w0", "b0"]``: the case, its witness, its branch."""
    match = DERIVED_KEY.fullmatch(key)
    if match is None:
        return [key]
    branch, witness, near = match.groups()
    found = [branch]
    if witness is not None:
        found.insert(0, branch + witness)
        if near is not None:
            found.insert(0, branch + witness + near)
    return found


def default_expectations_path(rule_path: str | os.PathLike[str]) -> Path | None:
    """``rules/x.toml`` -> ``rules/x.expect.toml`` if it exists."""
    path = Path(rule_path)
    candidate = path.with_name(path.name.rsplit(".", 1)[0] + ".expect.toml")
    return candidate if candidate.exists() else None


def load_expectations(path: str | os.PathLike[str], names: KnownNames | None = None) -> Expectations:
    """Read and check an expectations file; every mistake names the file and the line.

    With ``names``, the catalogue, sources and scenarios the file names must exist.
    """
    text, data = read_toml(path)
    return _Reader(str(path), text, names).read(data)


def read_toml(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and data; an unreadable or invalid file is an ExpectationError with its line."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ExpectationError(name, f"cannot read: {error.strerror or error}") from error
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"at line (\d+)", str(error))
        raise ExpectationError(
            name, f"not valid TOML: {error}", int(match.group(1)) if match else None
        ) from error


class _Reader:
    def __init__(self, path: str, text: str, names: KnownNames | None) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.names = names

    def section(self, where: str) -> tuple[int, int]:
        """The line range (0-based, end exclusive) of table ``where``: its own header, or its parent's."""
        parts = where.split(".")
        for cut in range(len(parts), 0, -1):
            header = "[" + ".".join(parts[:cut]) + "]"
            for start, line in enumerate(self.lines):
                if line.strip() == header:
                    end = next(
                        (
                            i
                            for i in range(start + 1, len(self.lines))
                            if self.lines[i].lstrip().startswith("[")
                        ),
                        len(self.lines),
                    )
                    return start, end
        return 0, len(self.lines)

    def line_of(self, needle: str, where: str | None = None) -> int | None:
        start, end = self.section(where) if where else (0, len(self.lines))
        for number in range(start, end):
            if needle in self.lines[number]:
                return number + 1
        return start + 1 if where else None

    def fail(self, message: str, needle: str | None = None, where: str | None = None) -> ExpectationError:
        return ExpectationError(self.path, message, self.line_of(needle, where) if needle else None)

    def read(self, data: dict[str, Any]) -> Expectations:
        # ``rule`` names the rule file the expectations belong to; applying them to another is warned of.
        allowed = {"catalogue", "defaults", "budgets", "sources", "scenarios", "rule", "diff", "derived"}
        self.only(data, allowed, "the file")
        rule = data.get("rule")
        if rule is not None and (not isinstance(rule, str) or not rule):
            raise self.fail("rule must be the name of the rule file these expectations belong to", "rule")
        catalogue = data.get("catalogue")
        if catalogue is not None and (not isinstance(catalogue, str) or not catalogue):
            raise self.fail(
                "catalogue must be the name of a scenario catalogue (harness catalogues)", "catalogue"
            )
        defaults = {"malicious": "alert", "benign": "silent", "out-of-scope": "silent"}
        for intent, verdict in self.table(data, "defaults").items():
            if intent not in INTENTS:
                raise self.fail(
                    f"[defaults] has no intent {intent!r}; use {', '.join(INTENTS)}", intent, "defaults"
                )
            defaults[intent] = self.verdict(verdict, f"[defaults] {intent}", "defaults")
        budgets = self.budgets(self.table(data, "budgets"))
        known_sources, known_scenarios = self.known_names(catalogue)
        sources = {}
        for name, spec in self.table(data, "sources").items():
            self.known(name, known_sources, "source", f"sources.{name}")
            sources[name] = self.entry(spec, f"sources.{name}")
        scenarios: dict[str, Expectation] = {}
        pairs: dict[tuple[str, str], Expectation] = {}
        for name, spec in self.table(data, "scenarios").items():
            where = f"scenarios.{name}"
            if not isinstance(spec, dict):
                raise self.fail(f"{where} must be a table", name, "scenarios")
            if not spec.get("custom"):
                if known_scenarios is None and self.names is not None:
                    raise self.fail(
                        f'{where}: name the catalogue this scenario comes from (catalogue = "..." at the '
                        "top; harness catalogues lists them), or add custom = true for a scenario of your "
                        "own corpus",
                        name,
                        "scenarios",
                    )
                self.known(name, known_scenarios, "scenario", where)
            per_source = spec.get("sources", {})
            if not isinstance(per_source, dict):
                raise self.fail(f"{where}.sources must be a table of sources", "sources", where)
            own = {k: v for k, v in spec.items() if k not in ("sources", "custom")}
            if own:
                scenarios[name] = self.entry(own, where)
            for source, source_spec in per_source.items():
                self.known(source, known_sources, "source", f"{where}.sources.{source}")
                pairs[(name, source)] = self.entry(source_spec, f"{where}.sources.{source}")
        return Expectations(
            self.path,
            catalogue,
            defaults,
            budgets,
            sources,
            scenarios,
            pairs,
            rule,
            None if rule is None else self.line_of("rule"),
            self.losses(self.table(data, "diff"), known_sources),
            self.derived(self.table(data, "derived"), known_sources),
        )

    def derived(
        self, table: dict[str, Any], known_sources: list[str] | None
    ) -> dict[tuple[str | None, str | None], Expectation]:
        """``[derived]``: accepted departures on derived cases, each a known-gap or a known-noise."""
        found: dict[tuple[str | None, str | None], Expectation] = {}
        for name, spec in table.items():
            where = f"derived.{name}"
            if not isinstance(spec, dict):
                raise self.fail(f"{where} must be a table", name, "derived")
            if name == "sources":
                for source, source_spec in spec.items():
                    self.known(source, known_sources, "source", f"{where}.{source}")
                    found[(None, source)] = self.derived_entry(source_spec, f"{where}.{source}")
                continue
            if not DERIVED_KEY.fullmatch(name):
                raise self.fail(
                    f"{where}: name a derived case as the report does: a branch (b1), a witness (b1w0) "
                    "or a near miss (b1w0n2), or [derived.sources.NAME] for every case in a source",
                    name,
                    "derived",
                )
            per_source = spec.get("sources", {})
            if not isinstance(per_source, dict):
                raise self.fail(f"{where}.sources must be a table of sources", "sources", where)
            own = {k: v for k, v in spec.items() if k != "sources"}
            if own:
                found[(name, None)] = self.derived_entry(own, where)
            for source, source_spec in per_source.items():
                self.known(source, known_sources, "source", f"{where}.sources.{source}")
                found[(name, source)] = self.derived_entry(source_spec, f"{where}.sources.{source}")
        return found

    def derived_entry(self, spec: Any, where: str) -> Expectation:
        entry = self.entry(spec, where)
        if entry.status == Status.EXPECTED:
            raise self.fail(
                f'{where}: [derived] accepts what a derived case does wrong: status = "known-gap" (a '
                'witness that stays silent) or "known-noise" (a near miss that alerts), with a reason',
                where.rsplit(".", 1)[-1],
                where,
            )
        return entry

    def known_names(self, catalogue: str | None) -> tuple[list[str] | None, list[str] | None]:
        """The sources and scenario ids this file may name; None where nothing says (taken as written)."""
        if self.names is None:
            return None, None
        scenarios: list[str] | None = None
        if catalogue is not None:
            try:
                scenarios = [*self.names.scenarios_of(catalogue), *BackgroundScenario]
            except LookupError as error:
                raise self.fail(str(error).strip("'\""), "catalogue") from error
        return list(self.names.sources), scenarios

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(f"{key} must be a table ([{key}]), not {type(value).__name__}", key)
        return value

    def known(self, name: str, known: list[str] | None, kind: str, where: str) -> None:
        if known is None or name in known:
            return
        guesses = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {guesses[0]!r}?" if guesses else ""
        custom = "; for a scenario of your own corpus, add custom = true" if kind == "scenario" else ""
        raise self.fail(f"unknown {kind} {name!r}{hint}{custom}", name, where)

    def only(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(
                    f"unknown key {key!r} in {where}; allowed: {', '.join(sorted(allowed))}",
                    key,
                    None if where == "the file" else where.strip("[]"),
                )

    def verdict(self, value: Any, where: str, section: str | None = None) -> str:
        if value not in VERDICTS:
            raise self.fail(
                f"{where}: expected verdict must be one of {VERDICTS}, not {value!r}", str(value), section
            )
        return str(value)

    def entry(self, spec: Any, where: str) -> Expectation:
        name = where.rsplit(".", 1)[-1]
        if not isinstance(spec, dict):
            raise self.fail(f"{where} must be a table with expect, status and reason", name, where)
        self.only(spec, {"expect", "status", "reason"}, where)
        if "expect" not in spec:
            raise self.fail(f'{where} needs expect = "alert" or "silent"', name, where)
        verdict = self.verdict(spec["expect"], where, where)
        status = spec.get("status", "expected")
        if status not in STATUSES:
            raise self.fail(f"{where}: status must be one of {STATUSES}, not {status!r}", str(status), where)
        if status == "known-gap" and verdict != "silent":
            raise self.fail(
                f'{where}: a known-gap is a miss we accept, so expect must be "silent"', "known-gap", where
            )
        if status == "known-noise" and verdict != "alert":
            raise self.fail(
                f'{where}: known-noise is an alert we accept, so expect must be "alert"', "known-noise", where
            )
        reason = spec.get("reason", "")
        if not isinstance(reason, str):
            raise self.fail(f"{where}: reason must be text", "reason", where)
        if status != "expected" and not reason.strip():
            raise self.fail(f"{where}: a {status} needs a reason", name, where)
        return Expectation(verdict, status, reason, origin=where)

    def losses(self, table: dict[str, Any], known_sources: list[str] | None) -> tuple[AcceptedLoss, ...]:
        """``[diff.lost.NAME]`` entries: ``where`` and/or ``sources``, a status and a reason."""
        self.only(table, {"lost"}, "[diff]")
        lost = table.get("lost", {})
        if not isinstance(lost, dict):
            raise self.fail("diff.lost must be a table of named entries ([diff.lost.NAME])", "lost", "diff")
        return tuple(self.loss(name, spec, known_sources) for name, spec in lost.items())

    def loss(self, name: str, spec: Any, known_sources: list[str] | None) -> AcceptedLoss:
        where = f"diff.lost.{name}"
        if not isinstance(spec, dict):
            raise self.fail(f"{where} must be a table with where, status and reason", name, "diff")
        self.only(spec, {"where", "sources", "status", "reason"}, where)
        status = spec.get("status")
        if status not in (Status.EXPECTED, Status.KNOWN_GAP):
            raise self.fail(
                f'{where}: status must be "expected" (the change meant it) or "known-gap" (a miss we '
                f"accept), not {status!r}",
                "status" if "status" in spec else name,
                where,
            )
        reason = spec.get("reason", "")
        if not isinstance(reason, str) or not reason.strip():
            raise self.fail(
                f"{where}: an accepted loss needs a reason", "reason" if "reason" in spec else name, where
            )
        condition, sources = spec.get("where"), spec.get("sources")
        if condition is None and sources is None:
            raise self.fail(f"{where} needs where or sources, to say which losses it accepts", name, where)
        matcher = None
        if condition is not None:
            if not isinstance(condition, str):
                raise self.fail(f"{where}: where must be an EQL condition in a string", "where", where)
            try:
                matcher = compile_query(f"any where {condition}")
            except HarnessError as error:
                raise self.fail(
                    f"{where}: where is not a valid EQL condition: {error}", "where", where
                ) from error
        if sources is not None:
            if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
                raise self.fail(f"{where}: sources must be a list of data source names", "sources", where)
            for source in sources:
                self.known(source, known_sources, "source", where)
        return AcceptedLoss(
            name,
            str(status),
            reason,
            condition,
            None if sources is None else frozenset(sources),
            self.line_of(f"[{where}]"),
            matcher,
        )

    def budgets(self, table: dict[str, Any]) -> Budgets:
        self.only(table, {"max_false_positives_per_million", "min_detection_rate"}, "[budgets]")
        fp = table.get("max_false_positives_per_million")
        rate = table.get("min_detection_rate")
        if fp is not None and not (_number(fp) and fp >= 0):
            raise self.fail(
                "max_false_positives_per_million must be a number >= 0", "max_false_positives", "budgets"
            )
        if rate is not None and not (_number(rate) and 0 <= rate <= 1):
            raise self.fail(
                "min_detection_rate must be a number between 0 and 1", "min_detection_rate", "budgets"
            )
        return Budgets(fp, rate)


def _number(value: Any) -> bool:
    """A real, finite number: TOML's true is not 1, and nan is no limit."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

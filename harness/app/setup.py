"""A rule made ready to judge: the rule, its expectations, its catalogue and what it reads.

Expectations come from ``--expect``, else the file beside the rule, else defaults; the
catalogue from ``--catalogue``, else the one the expectations file names, else none. A
rule without a catalogue is never scored against another rule's scenarios. Exceptions come
from ``--exceptions FILE`` (a rule export picks this rule's lists by its ``rule_id``), else
the ``X.exceptions.toml`` beside the rule ``X.toml`` (with a notice), else none;
``--no-exceptions`` (:data:`NO_EXCEPTIONS`) applies none.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError, NoCatalogueError
from harness.exceptions import ExceptionSet, load_exceptions
from harness.rules import Rule, load_rule
from harness.validation import Expectations, default_expectations_path, load_expectations
from harness.validation.expectations import KnownNames
from harness.validation.scope import RuleScope

if TYPE_CHECKING:
    from generators.scenarios import Catalogue

__all__ = [
    "NO_EXCEPTIONS",
    "ExceptionsInput",
    "RuleInput",
    "RuleSetup",
    "find_catalogue",
    "known_names",
    "prepare_rule",
    "sidecar_exceptions_path",
]

RuleInput = str | os.PathLike[str] | Rule
ExceptionsInput = str | os.PathLike[str] | ExceptionSet | None
# ``--no-exceptions``: an empty set, so a sidecar beside the rule is not read.
NO_EXCEPTIONS = ExceptionSet(items=())
EXCEPTIONS_SUFFIX = ".exceptions.toml"


def find_catalogue(name: str) -> Catalogue:
    """The catalogue called ``name``; a HarnessError lists the ones there are."""
    from generators.catalogues import UnknownCatalogueError, get_catalogue

    try:
        return get_catalogue(name)
    except UnknownCatalogueError as error:
        raise HarnessError(str(error)) from error


def known_names() -> KnownNames:
    """What expectations may name: the generators' data sources and each catalogue's scenarios."""
    from generators.catalogues import UnknownCatalogueError, get_catalogue
    from generators.sources import SOURCES

    def scenarios_of(name: str) -> list[str]:
        try:
            return list(get_catalogue(name).scenarios)
        except UnknownCatalogueError as error:
            raise LookupError(str(error)) from error

    return KnownNames(list(SOURCES), scenarios_of)


@functools.cache
def _catalogued_scenarios() -> frozenset[str]:
    """Every scenario id a known catalogue holds (the registry is fixed for a process)."""
    from generators.catalogues import catalogue_names, get_catalogue

    return frozenset(scenario for name in catalogue_names() for scenario in get_catalogue(name).scenarios)


@dataclass(frozen=True)
class RuleSetup:
    rule: Rule
    expectations: Expectations
    expectations_path: Path | None
    catalogue: Catalogue | None
    # The exceptions the rule applies (None: it has none), and where they were read from.
    exceptions: ExceptionSet | None = None
    exceptions_notice: str | None = None

    @property
    def scope(self) -> RuleScope:
        """The rule's indices, and its catalogue's scenarios.

        Without a catalogue, a labelled attack is the rule's unless a known catalogue holds its
        scenario: that is another technique's, generated for another rule (``--catalogue``
        names the one a rule is judged on). Benign events of a catalogue's scenario are pooled
        in one cell when the rule's catalogue does not hold it.
        """
        catalogue = self.catalogue
        if catalogue is None:
            return RuleScope.of(self.rule.indices, foreign=_catalogued_scenarios())
        return RuleScope.of(
            self.rule.indices, catalogue.name, list(catalogue.scenarios), foreign=_catalogued_scenarios()
        )

    @property
    def notices(self) -> list[str]:
        """What a report must say before its results: the rule's conversion notes (a Sigma rule's
        EQL relies on something the harness models differently), exception warnings, and a
        warning when the expectations name another rule file than the rule they are applied to.

        Only the file's stem is compared, so ``x.toml``'s expectations serve ``x.eql`` and
        ``x.md``; a copy of a rule with a copy of its expectations is warned of until its
        ``rule`` key is updated, rather than refused, since that is how a new rule starts.
        """
        conversion = self.rule.conversion
        told = [str(note) for note in (conversion.notes if conversion else ())]
        told += [self.exceptions_notice] if self.exceptions_notice else []
        if self.exceptions is not None:
            told += [f"exceptions: {warning}" for warning in self.exceptions.warnings]
        named = self.expectations.rule
        if named is None or self.expectations_path is None or Path(named).stem == Path(self.rule.path).stem:
            return told
        line = f":{self.expectations.rule_line}" if self.expectations.rule_line else ""
        return [
            *told,
            f"warning: {self.expectations_path}{line}: these expectations name rule {named!r}, not "
            f"{Path(self.rule.path).name}; check that they are meant for it, then set rule = "
            f'"{Path(self.rule.path).name}"',
        ]

    def active_exceptions(self, at_ms: int | None = None) -> ExceptionSet | None:
        """The exceptions as a run starting at ``at_ms`` applies them (expired items dropped).

        A validation is a rule run now, so its default start is the wall clock, not the corpus's
        first event: an item that has expired is not applied today, as Kibana would not apply it
        to an execution today. The schedule simulation passes each execution's own start.
        """
        if self.exceptions is None:
            return None
        return self.exceptions.active_at(int(time.time() * 1000) if at_ms is None else at_ms)

    @property
    def label(self) -> str:
        """``v214``, or the file's stem: how diffs and reports name a version."""
        return f"v{self.rule.version}" if self.rule.version is not None else Path(self.rule.path).stem

    def require_catalogue(self, what: str) -> Catalogue:
        """The catalogue, or one clear line on why there is none and what to do."""
        if self.catalogue is not None:
            return self.catalogue
        from generators.catalogues import catalogue_names

        raise NoCatalogueError(
            f"{self.rule.path}: no scenario catalogue covers this rule, so {what} would score it against "
            f"another rule's scenarios; give --catalogue NAME ({', '.join(catalogue_names())}; or "
            'catalogue = "NAME" in its .expect.toml), a labelled --corpus, or --labels for a real log'
        )


def sidecar_exceptions_path(rule_path: str | os.PathLike[str]) -> Path:
    """``X.exceptions.toml`` beside the rule file ``X.toml`` (``X.eql``, ``X.md``)."""
    path = Path(rule_path)
    return path.with_name(path.stem + EXCEPTIONS_SUFFIX)


def _exceptions_of(rule: Rule, given: ExceptionsInput) -> tuple[ExceptionSet | None, str | None]:
    """The exceptions ``rule`` applies and the notice saying where they came from.

    A set is taken as given (an empty one is ``--no-exceptions``); a file is read for this rule
    (a rule export's lists picked by ``rule_id``); nothing given reads the sidecar, if any.
    """
    if isinstance(given, ExceptionSet):
        if not (given.items or given.unapplied):
            return None, None
        return given, (_told(given, given.sources[0]) if given.sources else None)
    if given is not None:
        source = Path(given)
        rule_id = None if source.name.endswith(".toml") else rule.rule_id
        loaded = load_exceptions(source, rule_id=_rule_id_if_export(source, rule_id))
        return loaded, _told(loaded, str(source))
    if not rule.path:
        return None, None
    sidecar = sidecar_exceptions_path(rule.path)
    if not sidecar.is_file():
        return None, None
    loaded = load_exceptions(sidecar)
    why = "the rule's own (--exceptions FILE for others, --no-exceptions for none)"
    return loaded, _told(loaded, f"{sidecar}, {why}")


def _told(exceptions: ExceptionSet, where: str) -> str:
    items = len(exceptions.items)
    return f"exceptions: {items} item{'s' * (items != 1)} from {where}"


def _rule_id_if_export(source: Path, rule_id: str | None) -> str | None:
    """``rule_id`` when ``source`` is a rule export (a line with ``rule_id`` and no ``entries``)."""
    if rule_id is None:
        return None
    import json

    try:
        with source.open(encoding="utf-8") as handle:
            for line in handle:
                text = line.strip()
                if not text:
                    continue
                obj = json.loads(text)
                # A rule line, as load.py classifies lines: no list or item keys, and a rule_id.
                if isinstance(obj, dict) and "rule_id" in obj and not {"entries", "list_id"} & obj.keys():
                    return rule_id
    except (OSError, ValueError, UnicodeDecodeError):
        return None  # load_exceptions reports the file's problem where it lies
    return None


def prepare_rule(
    rule: RuleInput,
    *,
    expect: str | os.PathLike[str] | None = None,
    catalogue: str | None = None,
    exceptions: ExceptionsInput = None,
) -> RuleSetup:
    """Load ``rule`` (a path or a Rule) with its expectations, catalogue and exceptions."""
    loaded = rule if isinstance(rule, Rule) else load_rule(rule)
    found = (
        Path(expect)
        if expect is not None
        else (default_expectations_path(loaded.path) if loaded.path else None)
    )
    expectations = load_expectations(found, known_names()) if found is not None else Expectations()
    name = catalogue or expectations.catalogue
    applied, told = _exceptions_of(loaded, exceptions)
    return RuleSetup(
        loaded, expectations, found, None if name is None else find_catalogue(name), applied, told
    )

"""A rule made ready to judge: the rule, its expectations, its catalogue and what it reads.

Expectations come from ``--expect``, else the file beside the rule, else defaults; the
catalogue from ``--catalogue``, else the one the expectations file names, else none. A
rule without a catalogue is never scored against another rule's scenarios.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError, NoCatalogueError
from harness.rules import Rule, load_rule
from harness.validation import Expectations, default_expectations_path, load_expectations
from harness.validation.expectations import KnownNames
from harness.validation.scope import RuleScope

if TYPE_CHECKING:
    from generators.scenarios import Catalogue

__all__ = ["RuleInput", "RuleSetup", "find_catalogue", "known_names", "prepare_rule"]

RuleInput = str | os.PathLike[str] | Rule


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

    @property
    def scope(self) -> RuleScope:
        """The rule's indices, and its catalogue's scenarios.

        Without a catalogue, a labelled attack is the rule's unless a known catalogue holds its
        scenario: that is another technique's, generated for another rule (``--catalogue``
        names the one a rule is judged on).
        """
        catalogue = self.catalogue
        if catalogue is None:
            return RuleScope.of(self.rule.indices, foreign=_catalogued_scenarios())
        return RuleScope.of(self.rule.indices, catalogue.name, list(catalogue.scenarios))

    @property
    def notices(self) -> list[str]:
        """A warning when the expectations name another rule file than the rule they are applied to.

        Only the file's stem is compared, so ``x.toml``'s expectations serve ``x.eql`` and
        ``x.md``; a copy of a rule with a copy of its expectations is warned of until its
        ``rule`` key is updated, rather than refused, since that is how a new rule starts.
        """
        named = self.expectations.rule
        if named is None or self.expectations_path is None or Path(named).stem == Path(self.rule.path).stem:
            return []
        line = f":{self.expectations.rule_line}" if self.expectations.rule_line else ""
        return [
            f"warning: {self.expectations_path}{line}: these expectations name rule {named!r}, not "
            f"{Path(self.rule.path).name}; check that they are meant for it, then set rule = "
            f'"{Path(self.rule.path).name}"'
        ]

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


def prepare_rule(
    rule: RuleInput, *, expect: str | os.PathLike[str] | None = None, catalogue: str | None = None
) -> RuleSetup:
    """Load ``rule`` (a path or a Rule) with its expectations and catalogue."""
    loaded = rule if isinstance(rule, Rule) else load_rule(rule)
    found = (
        Path(expect)
        if expect is not None
        else (default_expectations_path(loaded.path) if loaded.path else None)
    )
    expectations = load_expectations(found, known_names()) if found is not None else Expectations()
    name = catalogue or expectations.catalogue
    return RuleSetup(loaded, expectations, found, None if name is None else find_catalogue(name))

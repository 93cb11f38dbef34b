"""Scenario catalogues by name: the built-in ones and those other packages register.

A catalogue is a value (:class:`generators.scenarios.Catalogue`); the corpus machinery
receives one and never imports a particular catalogue. This registry is the only place
that knows them by name: the built-in table below, and any installed package's entry
point in the ``detection_harness.catalogues`` group (``name = "module:ATTRIBUTE"``).
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points

from generators.scenarios import Catalogue

__all__ = ["ENTRY_POINT_GROUP", "UnknownCatalogueError", "catalogue_names", "get_catalogue"]

ENTRY_POINT_GROUP = "detection_harness.catalogues"
_BUILT_IN = {"appcmd": "generators.catalogues.appcmd:CATALOGUE"}


class UnknownCatalogueError(LookupError):
    """No catalogue has this name; the message lists the ones that exist."""


def _targets() -> dict[str, str]:
    found = dict(_BUILT_IN)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point.value)
    return found


def catalogue_names() -> list[str]:
    """Every catalogue that can be loaded, sorted."""
    return sorted(_targets())


def get_catalogue(name: str) -> Catalogue:
    """The catalogue called ``name``; :class:`UnknownCatalogueError` says which exist."""
    targets = _targets()
    target = targets.get(name)
    if target is None:
        guesses = difflib.get_close_matches(name, list(targets), n=1)
        hint = f"; did you mean {guesses[0]!r}?" if guesses else ""
        known = ", ".join(sorted(targets))
        raise UnknownCatalogueError(f"no scenario catalogue {name!r}{hint}; known: {known}")
    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute)
    if not isinstance(value, Catalogue) or value.name != name:
        raise UnknownCatalogueError(f"{target} is not the Catalogue {name!r}")
    return value

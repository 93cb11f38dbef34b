"""Tests derived from a rule's query: witnesses, near misses and findings, for any single-event EQL rule.

It reads the EQL tree (``harness.eql``) and the fleet; never a catalogue, the rule runner or the CLI.
"""

from generators.derive.derivation import Derivation, Finding, NearMiss, Rendering, Witness, derive, describe
from generators.derive.normal import DEFAULT_BRANCH_CAP, Atom, Branch, branches
from generators.derive.solve import MISSING

__all__ = [
    "DEFAULT_BRANCH_CAP",
    "MISSING",
    "Atom",
    "Branch",
    "Derivation",
    "Finding",
    "NearMiss",
    "Rendering",
    "Witness",
    "branches",
    "derive",
    "describe",
]

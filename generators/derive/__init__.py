"""Tests derived from a rule's query: witnesses, near misses and findings, for any EQL rule.

A single-event query is derived by ``derive``; a sequence or sample by ``derive_statement``,
which derives each stage as a query and joins the stage witnesses into chains.

It reads the EQL tree (``harness.eql``) and the fleet; never a catalogue, the rule runner or the CLI.
"""

from generators.derive.derivation import Derivation, Finding, NearMiss, Rendering, Witness, derive, describe
from generators.derive.linked import Chain, ChainEvent, ChainRendering, StatementDerivation
from generators.derive.normal import DEFAULT_BRANCH_CAP, Atom, Branch, branches
from generators.derive.sequences import DEFAULT_CHAIN_CAP, derive_statement
from generators.derive.solve import MISSING

__all__ = [
    "DEFAULT_BRANCH_CAP",
    "DEFAULT_CHAIN_CAP",
    "MISSING",
    "Atom",
    "Branch",
    "Chain",
    "ChainEvent",
    "ChainRendering",
    "Derivation",
    "Finding",
    "NearMiss",
    "Rendering",
    "StatementDerivation",
    "Witness",
    "branches",
    "derive",
    "derive_statement",
    "describe",
]

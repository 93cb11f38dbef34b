"""A rule's derived scenarios: witnesses and near misses from its query, in the sources it reads.

``generators.derive`` solves the query; this module picks the data sources the rule's
indices read (a witness rendered where the rule never looks would prove nothing), and
turns the derivation into the plain values ``harness.validation`` judges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.app.setup import RuleSetup
from harness.eql import compile_query, parse_query
from harness.validation.derived import (
    NEAR_MISS,
    WITNESS,
    DerivedCase,
    DerivedFinding,
    DerivedRendering,
    DerivedResult,
    DerivedSuite,
    judge_derived,
)

if TYPE_CHECKING:
    from generators.derive import NearMiss, Witness
    from generators.sources import Source

__all__ = ["derived_result", "derived_suite", "sources_read"]


def sources_read(setup: RuleSetup) -> list[Source]:
    """The generators' data sources whose index the rule's ``index`` patterns select."""
    from generators.sources import SOURCES

    indices = setup.scope.indices
    return [source for source in SOURCES.values() if indices.reads(source.index)]


def derived_suite(setup: RuleSetup, *, mapping: Any = None) -> DerivedSuite:
    """Derive ``setup``'s rule: every witness and near miss, rendered into the sources it reads."""
    from generators.derive import derive

    sources = sources_read(setup)
    derivation = derive(parse_query(setup.rule.query), name=setup.label, sources=sources, mapping=mapping)
    cases = (
        *(_case(w, WITNESS, w.branch, f"{w.variant}: {w.summary()}") for w in derivation.witnesses),
        *(_case(n, NEAR_MISS, _branch_of(n.witness), n.summary()) for n in derivation.near_misses),
    )
    return DerivedSuite(
        derivation.name,
        tuple(s.name for s in sources),
        len(derivation.branches),
        derivation.truncated,
        cases,
        tuple(DerivedFinding(f.kind, f.message, f.branch) for f in derivation.findings),
    )


def derived_result(
    setup: RuleSetup, suite: DerivedSuite, *, mapping: Any = None, engine: str = "compiled"
) -> DerivedResult:
    """``suite`` judged by the rule's own matcher (the row engine: a few hundred documents)."""
    matcher = compile_query(setup.rule.query, mapping=mapping, engine=engine)
    return judge_derived(matcher, suite, setup.expectations)


def _case(event: Witness | NearMiss, kind: str, branch: int, summary: str) -> DerivedCase:
    renderings = tuple(DerivedRendering(r.source, r.document, r.reason) for r in event.renderings)
    document = event.document if kind == WITNESS else None
    return DerivedCase(event.id, _key(event.id), kind, branch, summary, renderings, document)


def _key(case_id: str) -> str:
    """``derived/v214/b0w0n2`` -> ``b0w0n2``: the name the report and ``[derived]`` use."""
    return case_id.rsplit("/", 1)[-1]


def _branch_of(witness_id: str) -> int:
    key = _key(witness_id)
    return int(key[1:].split("w", 1)[0])

"""A rule's derived scenarios: witnesses and near misses from its query, in the sources it reads.

``generators.derive`` solves the query; this module picks the data sources the rule's
indices read (a witness rendered where the rule never looks would prove nothing), and
turns the derivation into the plain values ``harness.validation`` judges.

A sequence or sample rule is derived as chains (``derive_statement``): each case holds its
chain's documents per source, and the canonical chain in the pseudo-source ``query``; it is
judged by the rule's ``Searcher``. A piped single-event query (``... | head 5``) is derived
as its query and judged by the searcher too, so the pipes are part of what is tested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.app.setup import RuleSetup
from harness.eql import (
    Matcher,
    Piped,
    Query,
    Searcher,
    Statement,
    parse_statement,
)
from harness.eql.fields import field_values
from harness.validation.derived import (
    NEAR_MISS,
    QUERY_SOURCE,
    WITNESS,
    DerivedCase,
    DerivedEvent,
    DerivedFinding,
    DerivedRendering,
    DerivedResult,
    DerivedSuite,
    judge_derived,
)

if TYPE_CHECKING:
    from generators.derive import Chain, Finding, NearMiss, Witness
    from generators.sources import Source

__all__ = ["derived_result", "derived_suite", "sources_read"]

# The EQL search API's default, which compile_query and compile_statement also take.
CATEGORY_FIELD = "event.category"


def sources_read(setup: RuleSetup) -> list[Source]:
    """The generators' data sources whose index the rule's ``index`` patterns select."""
    from generators.sources import SOURCES

    indices = setup.scope.indices
    return [source for source in SOURCES.values() if indices.reads(source.index)]


def derived_suite(setup: RuleSetup, *, mapping: Any = None) -> DerivedSuite:
    """Derive ``setup``'s rule: every witness and near miss, rendered into the sources it reads."""
    from generators.derive import derive

    sources = sources_read(setup)
    statement = parse_statement(setup.rule.query, mapping=mapping)
    query = statement.query if isinstance(statement, Piped) else statement
    if not isinstance(query, Query):
        return _statement_suite(setup, statement, sources, mapping)
    derivation = derive(query, name=setup.label, sources=sources, mapping=mapping)
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
        tuple(_finding(f) for f in derivation.findings),
    )


def derived_result(
    setup: RuleSetup, suite: DerivedSuite, *, mapping: Any = None, engine: str = "compiled"
) -> DerivedResult:
    """``suite`` judged by the rule's own matcher (the row engine: a few hundred documents), or for a
    sequence, sample or piped rule its searcher, each stage's query judged by ``engine``."""
    # Built as compile_query and compile_statement build it, from the statement parsed here: the
    # rule is parsed and checked once, not twice.
    statement = parse_statement(setup.rule.query, mapping=mapping)
    judge: Matcher | Searcher
    if isinstance(statement, Query):
        judge = Matcher(statement, category_field=CATEGORY_FIELD, mapping=mapping, engine=engine)
    else:
        judge = Searcher(statement, category_field=CATEGORY_FIELD, mapping=mapping, engine=engine)
    return judge_derived(judge, suite, setup.expectations, exceptions=setup.active_exceptions())


def _statement_suite(
    setup: RuleSetup, statement: Statement, sources: list[Source], mapping: Any
) -> DerivedSuite:
    from generators.derive import derive_statement

    derivation = derive_statement(statement, name=setup.label, sources=sources, mapping=mapping)
    cases = (
        *(_chain_case(chain, WITNESS) for chain in derivation.witnesses),
        *(_chain_case(chain, NEAR_MISS) for chain in derivation.near_misses),
    )
    return DerivedSuite(
        derivation.name,
        (QUERY_SOURCE, *(s.name for s in sources)),
        derivation.chains,
        derivation.truncated,
        cases,
        tuple(_finding(f) for f in derivation.findings),
        kind=derivation.kind,
    )


def _chain_case(chain: Chain, kind: str) -> DerivedCase:
    """A chain as plain values: its canonical documents in ``query``, then each source's rendering."""
    renderings = (
        DerivedRendering(QUERY_SOURCE, None, "", chain.documents),
        *(DerivedRendering(r.source, None, r.reason, r.documents) for r in chain.renderings),
    )
    events = tuple(
        DerivedEvent(
            event.label(),
            event.category,
            event.timestamp,
            tuple((name, _value(document, name)) for name in event.keys),
        )
        for event, document in zip(chain.events, chain.documents, strict=True)
    )
    return DerivedCase(chain.id, _key(chain.id), kind, chain.chain, chain.summary(), renderings, None, events)


def _value(document: dict[str, Any], name: str) -> object:
    held = field_values(document, tuple(name.split(".")))
    return held[0] if len(held) == 1 else list(held)


def _finding(finding: Finding) -> DerivedFinding:
    return DerivedFinding(finding.kind, finding.message, finding.branch)


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

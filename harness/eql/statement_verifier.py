"""Checks a parsed statement as Elasticsearch does before running it: each stage, keys, spans, pipes.

Each bracketed query is checked as a single-event query is (:func:`verify`, mapping-aware);
the rest are the checks of ``LogicalPlanBuilder`` (``visitSequence``,
``visitSequenceParams``, ``pipe``) and the limits the EQL syntax reference states.
Elasticsearch reports the plan builder's as ``parsing_exception``; they are
:class:`EqlSemanticError` here because the text itself is grammatical.
"""

from __future__ import annotations

from harness.eql.ast import Expr, Field, Literal, Piped, Query, Sample, Sequence, Span, Stage, Statement
from harness.eql.mapping import FieldMapping
from harness.eql.verifier import _Verifier, verify
from harness.errors import EqlUnsupportedError

__all__ = ["MAX_RUNS", "verify_statement"]

MAX_RUNS = 100
"""The syntax reference (``with runs`` statement): "The runs value must be between 1 and 100 (inclusive)"."""


def verify_statement(statement: Statement, *, mapping: FieldMapping | None = None) -> None:
    """Raise :class:`EqlSemanticError` for the first problem Elasticsearch would report."""
    match statement:
        case Query():
            verify(statement, mapping=mapping)
        case Sequence() | Sample():
            _Checks(statement.source, mapping).joined(statement)
        case Piped(query=query, pipes=pipes, source=source):
            verify_statement(query, mapping=mapping)
            checks = _Checks(source, mapping)
            for pipe in pipes:
                checks.pipe_count(pipe.name, pipe.args, pipe.span)
        case _:
            raise TypeError(f"not an EQL statement: {statement!r}")


class _Checks:
    def __init__(self, source: str, mapping: FieldMapping | None) -> None:
        self.source = source
        self.mapping = mapping
        self.fields = _Verifier(source, mapping)  # its field checks and its errors, shared
        self.error = self.fields.error

    def joined(self, query: Sequence | Sample) -> None:
        stages = list(query.stages)
        if isinstance(query, Sequence) and query.until is not None:
            stages.append(query.until)
        for key in query.keys:
            self.fields.check_field(key)
        for stage in stages:
            verify(stage.query, mapping=self.mapping)
            for key in stage.keys:
                self.fields.check_field(key)
        self.key_counts(query.keys, stages)
        if isinstance(query, Sequence):
            self.sequence(query)

    def key_counts(self, shared: tuple[Field, ...], stages: list[Stage]) -> None:
        """LogicalPlanBuilder.visitSequence: every stage has as many keys as the first (``until`` too)."""
        expected = len(stages[0].keys)
        for stage in stages[1:]:
            if len(stage.keys) != expected:
                span = _keys_span(stage) if stage.keys else stage.span
                raise self.error(
                    "Inconsistent number of join keys specified; "
                    f"expected [{expected}] but found [{len(stage.keys)}]",
                    span,
                    hint=f"each query takes the same number of by keys ({len(shared)} shared by all)",
                )

    def sequence(self, query: Sequence) -> None:
        if query.maxspan is not None:
            self.maxspan(query)
        for stage in (*query.stages, *((query.until,) if query.until else ())):
            if stage.runs is not None:
                self.runs(stage)
        length = sum(1 if stage.runs is None else int(stage.runs) for stage in query.stages)
        if length < 2:
            # Elasticsearch's grammar read ``sequenceTerm sequenceTerm+`` before ``with runs``
            # came; a single query repeated by runs is still two or more.
            raise self.error(
                f"A sequence requires a minimum of 2 queries, found [{length}]",
                query.span,
                hint="add a query, or repeat one with runs=N",
            )
        missing = [stage for stage in query.stages if stage.missing]
        if missing and query.maxspan is None:
            # The syntax reference (Missing events): with maxspan is mandatory with missing events.
            raise self.error("a sequence with missing events ![...] needs with maxspan", missing[0].span)
        if len(missing) == len(query.stages):
            # The syntax reference (Missing events): at least one positive clause.
            raise self.error("a sequence needs at least one query that is not a missing event", query.span)

    def maxspan(self, query: Sequence) -> None:
        """LogicalPlanBuilder.visitSequenceParams, message for message."""
        assert query.maxspan is not None
        maxspan = query.maxspan
        text = self.source[maxspan.span[0] : maxspan.span[1]]
        if isinstance(maxspan.value, float):
            raise self.error(
                f"Decimal time interval [{text}] not supported; please use an positive integer", maxspan.span
            )
        if maxspan.value <= 0:
            raise self.error(f"A positive maxspan value is required; found [{maxspan.value}]", maxspan.span)
        if maxspan.unit is None:
            raise self.error(f"No time unit specified, did you mean [s] as in [{text}s]?", maxspan.span)
        if maxspan.millis is None:
            raise self.error(
                f"Unrecognized time unit [{maxspan.unit}] in [{text}], "
                "please specify one of [ms, s, m, h, d]",
                maxspan.span,
            )

    def runs(self, stage: Stage) -> None:
        runs = stage.runs
        if isinstance(runs, float) or runs is None or not 1 <= runs <= MAX_RUNS:
            raise self.error(
                f"runs must be an integer between 1 and {MAX_RUNS} (inclusive), found [{runs}]", stage.span
            )

    def pipe_count(self, name: str, args: tuple[Expr, ...], span: Span) -> None:
        """LogicalPlanBuilder.pipeIntArgument: one argument, a foldable integer, not negative."""
        if len(args) != 1:
            raise self.error(f"Pipe [{name}] expects exactly one argument but found [{len(args)}]", span)
        (arg,) = args
        if not isinstance(arg, Literal):
            # Elasticsearch folds a constant expression (head 2 * 5); the harness takes the number.
            raise EqlUnsupportedError(
                f"a computed {name} count is not supported here (yet): write the number",
                source=self.source,
                offset=span[0],
                width=max(1, span[1] - span[0]),
            )
        value = arg.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            shown = self.source[arg.span[0] : arg.span[1]] or repr(value)
            raise self.error(f"Pipe [{name}] expects a positive integer but found [{shown}]", arg.span)


def _keys_span(stage: Stage) -> Span:
    return (stage.keys[0].span[0], stage.keys[-1].span[1])

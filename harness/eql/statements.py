"""Parser for whole EQL statements: sequences, samples and pipes around single-event queries.

The grammar is Elasticsearch's (``x-pack/plugin/eql/src/main/antlr/EqlBase.g4``, as its
generated ``EqlBase.interp`` has it)::

    statement      : query pipe* ;
    query          : sequence | join | eventQuery | sample ;
    sequenceParams : WITH (MAXSPAN ASGN timeUnit) ;
    sequence       : SEQUENCE (by=joinKeys sequenceParams? | sequenceParams disallowed=joinKeys?)?
                     sequenceTerm+ (UNTIL until=sequenceTerm)? ;
    sample         : SAMPLE (by=joinKeys)? joinTerm+ ;
    pipe           : PIPE kind=IDENTIFIER (booleanExpression (COMMA booleanExpression)*)? ;
    joinKeys       : BY expression (COMMA expression)* ;
    joinTerm       : subquery (by=joinKeys)? ;
    sequenceTerm   : subquery (by=joinKeys)? (WITH key=IDENTIFIER ASGN value=number)? ;
    subquery       : (LB | MISSING_EVENT_OPEN) eventFilter RB ;      // MISSING_EVENT_OPEN: '!['
    timeUnit       : number unit=IDENTIFIER? ;

What the grammar accepts and Elasticsearch refuses to run (``join``, the pipes other than
``head`` and ``tail``) is an :class:`EqlUnsupportedError` here; the limits its plan
builder checks after parsing (units, ``runs``, join key counts) are the verifier's.
"""

from __future__ import annotations

import difflib

from harness.eql.ast import Expr, Field, MaxSpan, Pipe, Piped, Query, Sample, Sequence, Stage, Statement
from harness.eql.parser import _Parser
from harness.errors import EqlSyntaxError

__all__ = ["RUN_PIPES", "parse_statement"]

RUN_PIPES = frozenset({"head", "tail"})
"""The pipes Elasticsearch runs (``LogicalPlanBuilder.pipe``: ``HEAD_PIPE``, ``TAIL_PIPE``)."""
# LogicalPlanBuilder.SUPPORTED_PIPES: the parser knows these names, the planner refuses the
# rest with "Pipe [{}] is not supported"; the syntax reference lists them as unsupported.
_KNOWN_PIPES = RUN_PIPES | {"count", "filter", "sort", "unique", "unique_count"}


def parse_statement(text: str) -> Statement:
    """Parse any EQL statement Elasticsearch's grammar accepts, without checking it.

    Use :func:`harness.eql.parse_statement` for the checked form.
    """
    return _StatementParser(text).statement()


class _StatementParser(_Parser):
    def statement(self) -> Statement:
        tok = self.tok
        query: Query | Sequence | Sample
        if self.at_keyword("sequence"):
            query = self.sequence()
        elif self.at_keyword("sample"):
            query = self.sample()
        elif self.at_keyword("join"):
            raise self.not_run_by_elasticsearch("joins are", tok)
        elif self.at_op("[") or self.at_missing_event():
            raise self.error("a bracketed query belongs to a sequence or sample", hint="start with sequence")
        else:
            query = self.event_filter()
        pipes = []
        while self.at_op("|"):
            pipes.append(self.pipe())
        if not self.at("eof"):
            raise self.error(f"unexpected {self.describe(self.tok)}", hint=self.hint_for(self.tok))
        return Piped(query, tuple(pipes), source=self.source) if pipes else query

    # -- sequences and samples ----------------------------------------------------

    def sequence(self) -> Sequence:
        keyword = self.advance()
        keys: tuple[Field, ...] = ()
        maxspan = None
        if self.at_keyword("by"):
            keys = self.join_keys()
        if self.at_keyword("with"):
            maxspan = self.maxspan()
            if self.at_keyword("by"):
                # LogicalPlanBuilder.visitSequence (the grammar's ``disallowed=joinKeys``).
                raise self.error("Please specify sequence [by] before [with] not after")
        stages = self.stages(sequence=True)
        until = None
        if self.at_keyword("until"):
            self.advance()
            until = self.stage(sequence=True)
        return Sequence(stages, keys, maxspan, until, source=self.source, span=(keyword.start, keyword.end))

    def sample(self) -> Sample:
        keyword = self.advance()
        keys = self.join_keys() if self.at_keyword("by") else ()
        stages = self.stages(sequence=False)
        for word in ("with", "until"):
            if self.at_keyword(word):
                # The syntax reference (Samples): with maxspan, with runs and until are not supported.
                raise self.error(f"a sample takes no {word!r}: only sequences have maxspan, runs and until")
        return Sample(stages, keys, source=self.source, span=(keyword.start, keyword.end))

    def stages(self, *, sequence: bool) -> tuple[Stage, ...]:
        if not (self.at_op("[") or self.at_missing_event()):
            what = "sequence" if sequence else "sample"
            raise self.error(
                f"expected a bracketed query of the {what}, found {self.describe(self.tok)}",
                hint=f"a {what} lists its queries in brackets: [process where true] [file where true]",
            )
        stages = []
        while self.at_op("[") or self.at_missing_event():
            stages.append(self.stage(sequence=sequence))
        if self.at_op("!") and self.peek().text == "[":
            raise self.error("write ![ without a space to open a missing event")
        return tuple(stages)

    def stage(self, *, sequence: bool) -> Stage:
        opening = self.tok
        missing = self.at_missing_event()
        if missing:
            if not sequence:
                raise self.error("missing events ![...] belong to sequences, not samples", opening)
            self.advance()
        elif not self.at_op("["):
            raise self.error(f"expected '[' to open a query, found {self.describe(self.tok)}")
        self.advance()
        query = self.event_filter()
        self.expect_op("]", "to close the bracketed query")
        span = (opening.start, self.end())
        keys = self.join_keys() if self.at_keyword("by") else ()
        runs = self.runs() if sequence and self.at_keyword("with") else None
        return Stage(query, keys, runs, missing, span=span)

    def at_missing_event(self) -> bool:
        """``MISSING_EVENT_OPEN: '!['``: one token, so nothing between the two characters."""
        return self.at_op("!") and self.peek().text == "[" and self.adjacent(self.tok, self.peek())

    def join_keys(self) -> tuple[Field, ...]:
        self.advance()  # by
        keys = [self.join_key()]
        while self.at_op(","):
            self.advance()
            keys.append(self.join_key())
        return tuple(keys)

    def join_key(self) -> Field:
        start = self.tok
        key: Expr = self.expression()
        if not isinstance(key, Field):
            # The grammar reads any expression; the plan builder keeps attributes only.
            raise EqlSyntaxError(
                "a join key is a field name",
                source=self.source,
                offset=start.start,
                width=max(1, self.end() - start.start),
                hint="write the field itself: by process.entity_id",
            )
        return key

    def maxspan(self) -> MaxSpan:
        self.advance()  # with
        if not self.at_keyword("maxspan"):
            raise self.error(
                f"expected maxspan after with, found {self.describe(self.tok)}", hint="write with maxspan=5m"
            )
        self.advance()
        self.expect_op("=", "after maxspan")
        start = self.tok.start
        value = self.number("maxspan")
        unit = None
        if self.tok.kind == "ident":
            unit = str(self.advance().value)
        return MaxSpan(value, unit, span=(start, self.end()))

    def runs(self) -> int | float:
        self.advance()  # with
        option = self.tok
        if option.kind != "ident" or option.text != "runs":
            raise self.error(
                f"unknown stage option {self.describe(option)}: a stage takes with runs=N",
                hint="only sequences take with maxspan, before their first query",
            )
        self.advance()
        self.expect_op("=", "after runs")
        return self.number("runs")

    def number(self, what: str) -> int | float:
        if self.tok.kind != "number":
            raise self.error(f"expected a number after {what}=, found {self.describe(self.tok)}")
        value = self.advance().value
        assert isinstance(value, (int, float))  # the lexer gives a number token its number
        return value

    # -- pipes --------------------------------------------------------------------

    def pipe(self) -> Pipe:
        bar = self.advance()
        name = self.tok
        if name.kind != "ident":
            raise self.error(f"expected a pipe name after '|', found {self.describe(name)}")
        if name.text not in _KNOWN_PIPES:
            # LogicalPlanBuilder.pipe: "Unrecognized pipe [{}]", with the similar names.
            similar = difflib.get_close_matches(name.text, sorted(_KNOWN_PIPES), n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(similar)}?" if similar else "Elasticsearch runs head and tail"
            raise self.error(f"Unrecognized pipe [{name.text}]", name, hint=hint)
        if name.text not in RUN_PIPES:
            raise self.not_run_by_elasticsearch(f"the `{name.text}` pipe is", name)
        self.advance()
        args: list[Expr] = []
        if not (self.at_op("|") or self.at("eof")):
            args.append(self.expression())
            while self.at_op(","):
                self.advance()
                args.append(self.expression())
        return Pipe(name.text, tuple(args), span=(bar.start, self.end()))

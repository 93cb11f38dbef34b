"""Parser for single-event EQL: recursive descent, with precedence climbing for operators.

Sequences, samples and pipes are built on it in ``statements.py``.

Precedence, loosest first: ``or``, ``and``, ``not``, predicates (comparison, ``:``,
``like``, ``regex``, ``in``), ``+ -``, ``* / %``, unary minus, primaries. This is the
order of Elasticsearch's EQL grammar (EqlBase.g4).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from harness.eql.ast import (
    And,
    Arithmetic,
    Comparison,
    Expr,
    Field,
    FunctionCall,
    InSet,
    Literal,
    Match,
    Negate,
    Not,
    Or,
    Query,
    children,
)
from harness.eql.lexer import Token, tokenize
from harness.errors import EqlSyntaxError, EqlUnsupportedError

__all__ = ["MAX_DEPTH", "parse_query"]

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
# Binding levels, loosest first; `not` and the comparisons share the predicate level.
_OR, _AND, _PREDICATE, _ADD, _MUL = range(1, 6)
_BOOLEAN = {"or": _OR, "and": _AND}
_ARITHMETIC = {"+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "%": _MUL}
MAX_DEPTH = 100
"""How deeply a query may nest (parentheses, calls, operators, ``not``): enough for any rule.

Elasticsearch's parser has no fixed limit: it fails with "EQL statement is too large,
causing stack overflow when generating the parsing tree" when the JVM's stack runs out
(``EqlParser.invokeParser``). The harness refuses earlier, at a fixed and documented depth,
so that every later pass (verifier, optimizer, evaluators, printer) recurses safely.
"""
_MULTI_EVENT = {"sequence": "sequences are", "sample": "samples are"}
_RELATIONSHIPS = {"descendant": "`descendant of` is", "child": "`child of` is", "event": "`event of` is"}


def parse_query(text: str) -> Query:
    """Parse one single-event EQL query, without checking functions or types.

    Use :func:`harness.eql.parse_query` for the checked form; this one only knows
    the grammar.
    """
    return _Parser(text).query()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.i = 0
        self.depth = 0
        self.tokens = tokenize(source)

    # -- token helpers -------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    def at_op(self, text: str) -> bool:
        return self.at("op", text)

    def at_keyword(self, text: str) -> bool:
        return self.at("keyword", text)

    def error(self, message: str, tok: Token | None = None, hint: str | None = None) -> EqlSyntaxError:
        tok = tok or self.tok
        return EqlSyntaxError(
            message, source=self.source, offset=tok.start, width=max(1, tok.end - tok.start), hint=hint
        )

    def unsupported(
        self, what: str, tok: Token, why: str = "this operation runs single-event queries only"
    ) -> EqlUnsupportedError:
        """``what`` reads as a subject with its verb: "sequences are", "pipes are"."""
        return EqlUnsupportedError(
            f"{what} not supported here: {why}",
            source=self.source,
            offset=tok.start,
            width=max(1, tok.end - tok.start),
        )

    def not_run_by_elasticsearch(self, what: str, tok: Token) -> EqlUnsupportedError:
        """EQL that Elasticsearch parses and refuses to run (its syntax reference, "Limitations")."""
        return EqlUnsupportedError(
            f"{what} not supported: Elasticsearch does not run this construct",
            source=self.source,
            offset=tok.start,
            width=max(1, tok.end - tok.start),
        )

    def expect_op(self, text: str, context: str) -> Token:
        if not self.at_op(text):
            raise self.error(f"expected {text!r} {context}, found {self.describe(self.tok)}")
        return self.advance()

    @staticmethod
    def describe(tok: Token) -> str:
        return "end of query" if tok.kind == "eof" else repr(tok.text)

    def adjacent(self, left: Token, right: Token) -> bool:
        return left.end == right.start

    # -- query ---------------------------------------------------------------------

    def query(self) -> Query:
        """A whole text that is one single-event query; multi-event syntax is refused."""
        tok = self.tok
        if tok.kind == "keyword" and tok.text in _MULTI_EVENT:
            raise self.unsupported(_MULTI_EVENT[tok.text], tok)
        if self.at_keyword("join"):
            raise self.not_run_by_elasticsearch("joins are", tok)
        if self.at_op("["):
            raise self.unsupported("sequences are", tok)
        query = self.event_filter()
        if self.at_op("|"):
            raise self.unsupported("pipes are", self.tok)
        if not self.at("eof"):
            raise self.error(
                f"unexpected {self.describe(self.tok)} after the condition", hint=self.hint_for(self.tok)
            )
        return query

    def event_filter(self) -> Query:
        """``eventFilter : (ANY | event=eventValue) WHERE expression``."""
        category = self.category()
        if not self.at_keyword("where"):
            raise self.error(
                f"expected 'where' after the event category, found {self.describe(self.tok)}",
                hint='a query reads CATEGORY where CONDITION, e.g. process where process.name : "cmd.exe"',
            )
        self.advance()
        condition = self.expression()
        too_deep = _beyond(condition, MAX_DEPTH)
        if too_deep is not None:  # a long chain of arithmetic nests without parentheses
            raise self.too_deep(*too_deep.span)
        return Query(category=category, condition=condition, source=self.source)

    def category(self) -> str | None:
        tok = self.tok
        if self.at_keyword("any"):
            self.advance()
            return None
        if tok.kind in {"ident", "string"}:
            self.advance()
            return str(tok.value)
        if tok.kind == "quoted":
            raise self.error(
                "an event category is a name or a string, not a `quoted` name",
                tok,
                hint=f'write {tok.value!r} as a string: "{tok.value}"',
            )
        raise self.error(
            f"expected an event category or 'any', found {self.describe(tok)}",
            hint='a query reads CATEGORY where CONDITION, e.g. process where process.name : "cmd.exe"',
        )

    @staticmethod
    def hint_for(tok: Token) -> str | None:
        if tok.kind == "ident" and tok.text.lower() in {"and", "or", "not", "in", "like", "regex", "where"}:
            return f"EQL keywords are lowercase: write {tok.text.lower()!r}"
        if tok.text == "=":
            return "use == to compare"
        return None

    # -- operators: precedence climbing ------------------------------------------------

    def expression(self) -> Expr:
        return self.operators(_OR)

    def operators(self, level: int) -> Expr:
        """The operators binding at ``level`` or tighter, left to right (EqlBase.g4's layers).

        ``and``/``or`` gather their operands into one node; a comparison takes one on
        each side and no second comparison (``valueExpression``); arithmetic is left
        associative; ``not`` takes a whole predicate and only where a predicate may stand.
        """
        with self.nested():
            start = self.tok.start
            compared = False  # a comparison (or a `not ...`) cannot be compared again
            if self.at_keyword("not") and level <= _PREDICATE:
                self.advance()
                left: Expr = Not(self.operators(_PREDICATE), span=(start, self.end()))
                compared = True
            else:
                left = self.unary()
            while True:
                tok = self.tok
                if tok.kind == "keyword" and tok.text in _BOOLEAN and _BOOLEAN[tok.text] >= level:
                    bound, operands = _BOOLEAN[tok.text], [left]
                    while self.at_keyword(tok.text):
                        self.advance()
                        operands.append(self.operators(bound + 1))
                    node = Or if tok.text == "or" else And
                    left = node(tuple(operands), span=(start, self.end()))
                elif tok.kind == "op" and tok.text in _ARITHMETIC and _ARITHMETIC[tok.text] >= level:
                    self.advance()
                    right = self.operators(_ARITHMETIC[tok.text] + 1)
                    left = Arithmetic(tok.text, left, right, span=(start, self.end()))
                elif tok.kind == "op" and tok.text in _COMPARISONS and level <= _PREDICATE and not compared:
                    self.advance()
                    right = self.operators(_ADD)
                    left = Comparison(tok.text, left, right, span=(start, self.end()))
                    compared = True
                elif self.at_op("=") and level <= _PREDICATE:
                    raise self.error(
                        "'=' is not an EQL operator",
                        hint="use == to compare (or : for a case-insensitive match)",
                    )
                else:
                    return left

    @contextmanager
    def nested(self) -> Iterator[None]:
        """One level deeper; past :data:`MAX_DEPTH` the query is refused rather than overflowing."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.too_deep(self.tok.start, self.tok.end)
        try:
            yield
        finally:
            self.depth -= 1

    def too_deep(self, start: int, end: int) -> EqlSyntaxError:
        return EqlSyntaxError(
            f"expression nested too deeply: at most {MAX_DEPTH} levels",
            source=self.source,
            offset=start,
            width=max(1, end - start),
            hint="split the condition, or write a long chain of operators with fewer levels",
        )

    def end(self) -> int:
        """Where the last consumed token ends."""
        return self.tokens[self.i - 1].end

    # -- predicates -----------------------------------------------------------------

    def postfix(self, subject: Expr) -> Expr:
        """``primaryExpression predicate?``: ``:``, ``like``, ``regex`` and ``in`` bind to a primary."""
        start = subject.span[0]
        tok = self.tok
        if self.at_op(":"):
            self.advance()
            return Match(":", subject, self.patterns(":"), span=(start, self.tokens[self.i - 1].end))
        if self.at_keyword("like") or self.at_keyword("regex"):
            op = self.advance().text + self.tilde_suffix(tok)
            return Match(op, subject, self.patterns(op), span=(start, self.tokens[self.i - 1].end))
        negated = False
        if self.at_keyword("not") and self.peek().kind == "keyword" and self.peek().text == "in":
            self.advance()
            negated = True
        if self.at_keyword("in"):
            in_tok = self.advance()
            insensitive = bool(self.tilde_suffix(in_tok))
            values = self.value_list()
            return InSet(subject, values, insensitive, negated, span=(start, self.tokens[self.i - 1].end))
        return subject

    def tilde_suffix(self, keyword: Token) -> str:
        """The ``~`` of ``in~``, ``like~``, ``regex~``: one token, so no space before it."""
        if self.at_op("~"):
            if not self.adjacent(keyword, self.tok):
                raise self.error(f"write {keyword.text}~ without a space", self.tok)
            self.advance()
            return "~"
        return ""

    def patterns(self, op: str) -> tuple[Literal, ...]:
        if self.at_op("("):
            self.advance()
            items = [self.constant(op)]
            while self.at_op(","):
                self.advance()
                items.append(self.constant(op))
            self.expect_op(")", f"to close the list of {op} patterns")
            return tuple(items)
        return (self.constant(op),)

    def constant(self, op: str) -> Literal:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return Literal(tok.value, span=(tok.start, tok.end))
        if tok.kind == "number" or self.at_op("-"):
            negative = self.at_op("-")
            if negative:
                self.advance()
                if self.tok.kind != "number":
                    raise self.error(f"expected a constant after {op}")
            num = self.advance()
            literal = Literal(num.value, span=(num.start, num.end))
            return Literal(self.negated(literal) if negative else num.value, span=(tok.start, num.end))
        if tok.kind == "keyword" and tok.text in {"true", "false", "null"}:
            self.advance()
            return Literal({"true": True, "false": False, "null": None}[tok.text], span=(tok.start, tok.end))
        raise self.error(
            f"expected a constant after {op}, found {self.describe(tok)}",
            hint=f'{op} compares a field with a constant or a list of constants ("a", "b*")',
        )

    def value_list(self) -> tuple[Expr, ...]:
        self.expect_op("(", "to open the list after in")
        items = [self.expression()]
        while self.at_op(","):
            self.advance()
            items.append(self.expression())
        self.expect_op(")", "to close the list after in")
        return tuple(items)

    # -- unary and primaries --------------------------------------------------------

    def unary(self) -> Expr:
        if self.at_op("-"):
            with self.nested():
                start = self.advance().start
                operand = self.unary()
            if (
                isinstance(operand, Literal)
                and isinstance(operand.value, (int, float))
                and not isinstance(operand.value, bool)
            ):
                return Literal(self.negated(operand), span=(start, operand.span[1]))
            return Negate(operand, span=(start, self.end()))
        if self.at_op("+"):
            with self.nested():
                self.advance()
                return self.unary()
        return self.postfix(self.primary())

    def negated(self, literal: Literal) -> int | float:
        """``-literal``. Elasticsearch reads 9223372036854775808 as a double before negating it;
        the harness keeps ``-9223372036854775808`` the long it equals, so every long prints
        and parses back as itself (the value is the same, only its Java type differs)."""
        assert isinstance(literal.value, (int, float))
        if self.source[literal.span[0] : literal.span[1]].lstrip("0") == str(2**63):
            return -(2**63)
        return -literal.value

    def primary(self) -> Expr:
        tok = self.tok
        if tok.kind in ("string", "number"):
            self.advance()
            return Literal(tok.value, span=(tok.start, tok.end))
        if tok.kind == "keyword" and tok.text in ("true", "false", "null"):
            self.advance()
            return Literal({"true": True, "false": False, "null": None}[tok.text], span=(tok.start, tok.end))
        if self.at_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")", "to close the parenthesis")
            return inner
        if self.at_op("?"):
            self.advance()
            if self.tok.kind not in ("ident", "quoted"):
                raise self.error(f"expected a field name after '?', found {self.describe(self.tok)}")
            return self.field(optional=True, start=tok.start)
        if tok.kind == "ident" and tok.text in _RELATIONSHIPS and self.peek().text == "of":
            # ExpressionBuilder.visitProcessCheck; the syntax reference lists the lineage keywords
            # among what Elasticsearch EQL does not support.
            raise self.not_run_by_elasticsearch(_RELATIONSHIPS[tok.text], tok)
        if tok.kind == "ident" and (self.peek().text == "(" or self.is_tilde_call()):
            return self.function_call()
        if tok.kind in ("ident", "quoted"):
            return self.field(optional=False, start=tok.start)
        if self.at_op("="):
            raise self.error("'=' is not an EQL operator", hint="use == to compare")
        if self.at_op("["):
            raise self.unsupported("sequences are", tok)
        raise self.error(
            f"expected a field, a constant or '(' but found {self.describe(tok)}",
            hint=self.hint_for(tok),
        )

    def is_tilde_call(self) -> bool:
        """``name~(``: the ``~`` is part of the function's name token, so it touches the name."""
        name, tilde, paren = self.tok, self.peek(1), self.peek(2)
        return tilde.text == "~" and paren.text == "(" and self.adjacent(name, tilde)

    def function_call(self) -> FunctionCall:
        name = self.advance()
        insensitive = False
        if self.at_op("~"):
            self.advance()
            insensitive = True
        self.expect_op("(", f"after {name.text}")
        args: list[Expr] = []
        if not self.at_op(")"):
            args.append(self.expression())
            while self.at_op(","):
                self.advance()
                args.append(self.expression())
        self.expect_op(")", f"to close the arguments of {name.text}")
        return FunctionCall(
            str(name.value), tuple(args), insensitive, span=(name.start, self.tokens[self.i - 1].end)
        )

    def field(self, *, optional: bool, start: int) -> Field:
        parts = [str(self.advance().value)]
        while self.at_op("."):
            self.advance()
            if self.tok.kind not in ("ident", "quoted"):
                hint = f"write `{self.tok.text}` in back-quotes" if self.tok.kind == "keyword" else None
                raise self.error(
                    f"expected a field name after '.', found {self.describe(self.tok)}", hint=hint
                )
            parts.append(str(self.advance().value))
        if self.at_op("[") and self.peek().kind == "number":
            raise self.unsupported(
                "array indexes in field names are", self.tok, "the harness does not evaluate them (yet)"
            )
        path = tuple(p for part in parts for p in part.split("."))
        if any(not p for p in path):
            end = self.tokens[self.i - 1].end
            raise EqlSyntaxError(
                "empty segment in field name", source=self.source, offset=start, width=end - start
            )
        return Field(path, optional, span=(start, self.tokens[self.i - 1].end))


def _beyond(node: Expr, depth: int) -> Expr | None:
    """A node more than ``depth`` levels down the tree, if there is one (found without recursion)."""
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        if level > depth:
            return current
        stack.extend((child, level + 1) for child in children(current))
    return None

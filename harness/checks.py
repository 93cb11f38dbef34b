"""Static findings about a rule: what its author probably did not mean.

Findings are data (severity, code, message, position) so each report format can
render them its own way. They never change a verdict; they explain one in advance.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.eql.ast import (
    Comparison,
    Expr,
    Field,
    FunctionCall,
    InSet,
    Literal,
    Piped,
    Query,
    Sample,
    Sequence,
    Stage,
    Statement,
    walk,
)
from harness.rules import Rule
from harness.sources import CATEGORIES, DataSource, sources_for

__all__ = ["Finding", "check_rule", "check_statement"]


@dataclass(frozen=True)
class Finding:
    severity: str  # "warning" or "info"
    code: str
    message: str
    offset: int | None = None


def check_rule(rule: Rule, query: Query) -> list[Finding]:
    """Findings for ``rule`` whose query text parsed to ``query``, each said once."""
    findings: list[Finding] = []
    sources, unknown = sources_for(rule.indices)
    for pattern in unknown:
        findings.append(
            Finding(
                "info",
                "unknown-index",
                f"index pattern {pattern!r} is not in the data source catalogue; its fields are not checked",
            )
        )
    findings.extend(_categories_not_held(query.category, sources, bool(unknown)))
    nodes = list(walk(query.condition))
    findings.extend(_fields_never_carried(query, nodes, sources))
    for node in nodes:
        findings.extend(_literal_wildcards(node))
        findings.extend(_unescaped_function_argument(node))
    return findings


def check_statement(rule: Rule, statement: Statement) -> list[Finding]:
    """Findings for any statement: each stage's query checked as a rule of its own, then the joins.

    A stage's findings say which stage; a join key a source never carries, and a ``maxspan``
    longer than the window each execution searches, are findings of the sequence itself.
    """
    converted = [
        Finding(note.severity, note.code, note.message)
        for note in (rule.conversion.notes if rule.conversion is not None else ())
    ]
    inner = statement.query if isinstance(statement, Piped) else statement
    if isinstance(inner, Query):
        return converted + check_rule(rule, inner)
    findings: list[Finding] = converted
    seen: set[str] = set()
    stages = (*inner.stages, *((inner.until,) if isinstance(inner, Sequence) and inner.until else ()))
    for number, stage in enumerate(stages, 1):
        what = "until" if isinstance(inner, Sequence) and stage is inner.until else f"stage {number}"
        for finding in check_rule(rule, stage.query):
            if finding.code != "unknown-index":
                findings.append(replace(finding, message=f"{what}: {finding.message}"))
            elif finding.message not in seen:  # the same for every stage: said once
                seen.add(finding.message)
                findings.append(finding)
        findings.extend(_keys_never_carried(rule, inner, stage, what))
    if isinstance(inner, Sequence):
        findings.extend(_maxspan_over_window(rule, inner))
    return findings


def _keys_never_carried(rule: Rule, joined: Sequence | Sample, stage: Stage, what: str) -> list[Finding]:
    """A join key a source never writes in the stage's process events: the stage joins nothing there.

    Elasticsearch adds an ``exists`` filter per join key (elasticsearch#78195), so a document
    without the key is never a candidate; a ``?key`` is the value null instead.
    """
    if stage.query.category not in CATEGORIES:
        return []
    sources, _ = sources_for(rule.indices)
    return [
        Finding(
            "warning",
            "key-not-in-source",
            f"{what}: join key {key.name} is never written in {source.name}'s process events "
            f"({', '.join(source.indices)}): the stage finds nothing there",
            key.span[0],
        )
        for key in (*joined.keys, *stage.keys)
        if not key.optional
        for source in sources
        if source.fields_complete and key.name not in source.fields
    ]


def _maxspan_over_window(rule: Rule, sequence: Sequence) -> list[Finding]:
    """Kibana searches each execution's window (``from`` to now) alone: a longer span is never seen whole."""
    span = sequence.maxspan.millis if sequence.maxspan is not None else None
    if sequence.maxspan is None or span is None or span <= rule.schedule.lookback_s * 1000:
        return []
    return [
        Finding(
            "info",
            "maxspan-over-window",
            f"maxspan {sequence.maxspan.value}{sequence.maxspan.unit or ''} is longer than the "
            f"{rule.schedule.from_} window each execution searches: a sequence spread over more than "
            "the window is never found",
            sequence.maxspan.span[0],
        )
    ]


def _categories_not_held(category: str | None, sources: list[DataSource], unknown: bool) -> list[Finding]:
    """Where the rule's event category never lands: per source, and a warning when it lands nowhere.

    Nowhere only when every index the rule reads is a known one: an index outside the
    catalogue (``logs-endpoint.events.network-*``) may hold what the known ones do not.
    """
    if category is None or category == "any":
        return []
    without = [s for s in sources if s.categories is not None and category not in s.categories]
    found = [
        Finding(
            "info",
            "category-not-in-source",
            f"{source.name} ({', '.join(source.indices)}) holds no {category} events "
            f"(it holds {', '.join(sorted(source.categories or ()))}): the rule reads nothing there",
        )
        for source in without
    ]
    if sources and len(without) == len(sources) and not unknown:
        found.append(
            Finding(
                "warning",
                "category-in-no-source",
                f"no index the rule reads holds {category} events: it can never match",
            )
        )
    return found


def _fields_never_carried(query: Query, nodes: list[Expr], sources: list[DataSource]) -> list[Finding]:
    """A field used without '?' that a source never carries, once per field and source.

    The sources' field sets describe their process events: of a file, registry or network
    event (or "any"), they cannot say that a field is never there.
    """
    if query.category not in CATEGORIES:
        return []
    uses: dict[str, list[Field]] = {}
    for node in nodes:
        if isinstance(node, Field) and not node.optional and node.name != "event.category":
            uses.setdefault(node.name, []).append(node)
    findings = []
    for name, fields in uses.items():
        times = f" (used {len(fields)} times)" if len(fields) > 1 else ""
        for source in sources:
            if source.fields_complete and name not in source.fields:
                findings.append(
                    Finding(
                        "warning",
                        "field-not-in-source",
                        f"{name} is used without '?'{times} but {source.name} ({', '.join(source.indices)}) "
                        f"never carries it in a process event: the rule cannot match there; write ?{name} "
                        "if that is intended",
                        fields[0].span[0],
                    )
                )
    return findings


def _literal_wildcards(node: Expr) -> list[Finding]:
    constants: list[Literal] = []
    if isinstance(node, Comparison) and node.op in ("==", "!="):
        constants = [side for side in (node.left, node.right) if isinstance(side, Literal)]
    elif isinstance(node, InSet):
        constants = [v for v in node.values if isinstance(v, Literal)]
    return [
        Finding(
            "warning",
            "literal-wildcard",
            f"{constant.value!r} is compared exactly and case-sensitively: its '*' or '?' is a literal "
            "character, not a wildcard; use ':' for a case-insensitive wildcard match",
            constant.span[0],
        )
        for constant in constants
        if isinstance(constant.value, str) and ("*" in constant.value or "?" in constant.value)
    ]


def _unescaped_function_argument(node: Expr) -> list[Finding]:
    if not (isinstance(node, FunctionCall) and node.name.lower() in ("endswith", "stringcontains")):
        return []
    if len(node.args) != 2 or not isinstance(node.args[0], Field) or not isinstance(node.args[1], Literal):
        return []
    value = node.args[1].value
    if not isinstance(value, str) or not any(ch in value for ch in "\\*?"):
        return []
    return [
        Finding(
            "warning",
            "unescaped-wildcard-argument",
            f"Elasticsearch passes {node.name}'s argument to a wildcard query unescaped: in {value!r} a "
            "backslash escapes the next character and '*'/'?' are wildcards; a Windows path will not "
            "match as written (use ':' with the pattern instead)",
            node.args[1].span[0],
        )
    ]

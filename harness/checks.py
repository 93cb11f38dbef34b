"""Static findings about a rule: what its author probably did not mean.

Findings are data (severity, code, message, position) so each report format can
render them its own way. They never change a verdict; they explain one in advance.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.eql.ast import Comparison, Expr, Field, FunctionCall, InSet, Literal, Query, walk
from harness.rules import Rule
from harness.sources import CATEGORIES, DataSource, sources_for

__all__ = ["Finding", "check_rule"]


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
    findings.extend(_categories_not_held(query.category, sources))
    nodes = list(walk(query.condition))
    findings.extend(_fields_never_carried(query, nodes, sources))
    for node in nodes:
        findings.extend(_literal_wildcards(node))
        findings.extend(_unescaped_function_argument(node))
    return findings


def _categories_not_held(category: str | None, sources: list[DataSource]) -> list[Finding]:
    """Where the rule's event category never lands: per source, and a warning when it lands nowhere."""
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
    if sources and len(without) == len(sources):
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

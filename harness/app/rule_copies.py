"""Distinct copies of rules, for the many-rules benchmark: more rules than a sample holds.

A copy is its rule file with a new name, a new ``rule_id`` and a query that differs in meaning:
its condition (each stage's, and the ``until``'s, of a sequence or sample) gains
``or process.name : "bench-copy-K.exe"``. A copy whose query text were the original's would be
counted once by the scan of a Parquet corpus (it counts distinct query texts), and a whitespace
or comment change would be undone by any cache that normalizes queries; a branch no fleet
process takes keeps every corpus result the original's while the query is a different one to
every engine. The added branch is also one more witness
among the derived scenarios: the copy costs a little more than its original, never less.

TOML rules (detection-rules) and ``.eql`` files are copied; an ``.expect.toml`` beside the rule
is copied beside the copy, its ``rule`` key naming the copy, so the copy keeps the original's
catalogue and expectations.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from pathlib import Path

from harness.eql import parse_statement
from harness.eql.ast import (
    Field,
    Literal,
    Match,
    Or,
    Piped,
    Query,
    Sample,
    Sequence,
    Stage,
    Statement,
    format_query,
)
from harness.errors import UsageError
from harness.rules import load_rule
from harness.validation.expectations import default_expectations_path

__all__ = ["copy_rules", "distinct_query"]

# uuid5's namespace for the copies' rule ids: the same rule and copy number, the same id.
_COPIES = uuid.UUID("6f1c9e52-3c1a-4c0e-9a57-5b8e0d7f2b41")
_RULE_TABLE = re.compile(r"^\[rule\][ \t]*$", re.MULTILINE)
# A table header: bare keys only, so a sequence's stage (``[process where ...]``) is never one.
_NEXT_TABLE = re.compile(r"^\[\[?[A-Za-z0-9_.-]+\]\]?[ \t]*$", re.MULTILINE)
_QUERY = re.compile(r"^query[ \t]*=[ \t]*('''|\"\"\").*?\1[ \t]*$", re.MULTILINE | re.DOTALL)


def distinct_query(query: str, number: int) -> str:
    """``query`` with a branch no fleet process takes added to each condition, printed on one line."""
    statement = parse_statement(query)
    return format_query(_widened(statement, f"bench-copy-{number}.exe"))


def _widened(statement: Statement, name: str) -> Statement:
    match statement:
        case Query():
            return _widened_query(statement, name)
        case Sequence(stages=stages, until=until):
            # Every stage and the until: a stage whose text were the original's would be judged
            # once for both by the pass over many rules, making a copy cheaper than a rule.
            each = tuple(_widened_stage(stage, name) for stage in stages)
            return replace(statement, stages=each, until=until and _widened_stage(until, name))
        case Sample(stages=stages):
            return replace(statement, stages=tuple(_widened_stage(stage, name) for stage in stages))
        case Piped(query=inner):  # its query, sequence or sample widened, the pipes kept
            widened = _widened(inner, name)
            assert not isinstance(widened, Piped)  # a piped statement's inner one has no pipes
            return replace(statement, query=widened)
    raise TypeError(f"not an EQL statement: {statement!r}")


def _widened_stage(stage: Stage, name: str) -> Stage:
    return replace(stage, query=_widened_query(stage.query, name))


def _widened_query(query: Query, name: str) -> Query:
    branch = Match(":", Field(("process", "name")), (Literal(name),))
    return replace(query, condition=Or((query.condition, branch)))


_SIGMA = (".yml", ".yaml")


def copy_rules(rules: list[Path], count: int, folder: Path) -> list[Path]:
    """Write ``count`` copies of ``rules`` (taken in turn) into ``folder``; their paths, in path order.

    The K-th copy (from 0) is of ``rules[K % len(rules)]``; file names start with K, zero-padded, so
    path order is copy order. Raises :class:`UsageError` for a rule that cannot be copied.
    """
    if not rules:
        raise UsageError("no rules to copy: give --rules a rule file, folder or glob")
    width = len(str(count))
    written = []
    for number in range(count):
        source = rules[number % len(rules)]
        # A Sigma rule's copy is its converted EQL: a copy is timed, and the EQL is what runs.
        name = source.stem + ".eql" if source.suffix in _SIGMA else source.name
        target = folder / f"copy{number:0{width}d}-{name}"
        _write_copy(source, target, number)
        written.append(target)
    return written


def _write_copy(source: Path, target: Path, number: int) -> None:
    if source.suffix not in (".eql", ".toml", *_SIGMA):
        raise UsageError(
            f"{source}: copies are made of TOML, .eql and Sigma rules only; leave it out of --rules"
        )
    rule = load_rule(source)
    query = distinct_query(rule.query, number)
    if target.suffix == ".eql":
        target.write_text(query + "\n", encoding="utf-8")
    else:
        rule_id = uuid.uuid5(_COPIES, f"{rule.rule_id or source.name}/{number}")
        target.write_text(_toml_copy(source, query, number, rule_id), "utf-8")
    copied = load_rule(target)
    if copied.query.strip() != query or (source.suffix == ".toml" and copied.rule_id == rule.rule_id):
        raise UsageError(f"{source}: its copy {target} did not read back as a distinct rule")
    expectations = default_expectations_path(source)
    if expectations is not None:
        text = expectations.read_text(encoding="utf-8")
        named = re.sub(r"^rule[ \t]*=.*$", f'rule = "{target.name}"', text, count=1, flags=re.MULTILINE)
        target.with_name(target.name.rsplit(".", 1)[0] + ".expect.toml").write_text(named, "utf-8")


def _toml_copy(source: Path, query: str, number: int, rule_id: uuid.UUID) -> str:
    """The rule's TOML with the copy's name, rule_id and query in its ``[rule]`` table."""
    text = source.read_text(encoding="utf-8")
    table = _RULE_TABLE.search(text)
    if table is None:
        raise UsageError(f"{source}: no [rule] table written as detection-rules writes it, so no copy")
    if "'''" in query:  # a literal string cannot hold its own delimiter
        raise UsageError(f"{source}: its query holds ''', which a copy's TOML literal string cannot")
    after = _NEXT_TABLE.search(text, table.end())
    end = len(text) if after is None else after.start()
    body = text[table.end() : end]
    body, named = re.subn(
        r'^name[ \t]*=[ \t]*"(.*)"[ \t]*$',
        lambda found: f'name = "{found[1]} (bench copy {number})"',
        body,
        count=1,
        flags=re.MULTILINE,
    )
    body, queried = _QUERY.subn(lambda _: f"query = '''\n{query}\n'''", body, count=1)
    if not (named and queried):
        raise UsageError(f"{source}: its name or query is not written as detection-rules writes them")
    body, identified = re.subn(
        r"^rule_id[ \t]*=.*$", f'rule_id = "{rule_id}"', body, count=1, flags=re.MULTILINE
    )
    if not identified:
        body = f'\nrule_id = "{rule_id}"' + body
    return text[: table.end()] + body + text[end:]

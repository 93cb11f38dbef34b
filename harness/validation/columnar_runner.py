"""Validation and diffs on Parquet corpora, aggregated inside DuckDB.

Nothing is collected row by row: DuckDB counts events and alerts per scenario,
source, intent and role (``GROUP BY``), and only a violation's example event is
fetched, with ``LIMIT 1``. The verdicts are the columnar translation's, which the
differential tests hold to the reference evaluator's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pyarrow.dataset as ds

from harness.eql import Query
from harness.eql.columnar import translate
from harness.validation.diff import Change, DiffResult
from harness.validation.expectations import Expectations
from harness.validation.runner import BACKGROUND_SCENARIO, Cell, ValidationResult

__all__ = ["diff_parquet", "validate_parquet"]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _label(schema: Any, key: str) -> str:
    labels = schema.field("labels").type if schema.get_field_index("labels") >= 0 else None
    if labels is None or labels.get_field_index(key) < 0:
        return "NULL"
    return f'struct_extract("labels", {_quote(key)})'


def _connect() -> Any:
    import duckdb

    return duckdb.connect()


def _source(path: str) -> str:
    return f"read_parquet({_quote(path)})"


def _epoch_ms(value: Any) -> int | None:
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value).timestamp() * 1000)
        except ValueError:
            return None
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def validate_parquet(
    query: Query, path: str, expectations: Expectations, *, rule_name: str, rule_version: int | None = None
) -> ValidationResult:
    schema = ds.dataset(path, format="parquet").schema
    condition = translate(query, schema)
    connection = _connect()
    scenario, source, intent, role = (_label(schema, k) for k in ("scenario", "source", "intent", "role"))
    rows = connection.execute(
        f"SELECT {scenario}, {source}, {intent}, {role}, count(*), count(*) FILTER (WHERE {condition}) "
        f"FROM {_source(path)} GROUP BY ALL"
    ).fetchall()
    result = ValidationResult(rule_name, rule_version, str(query), path, expectations)
    for name, src, kind, part, events, alerts in rows:
        if name is None:
            result.unlabelled_events += events
            result.unlabelled_alert_count += alerts
            continue
        if (part or "target") != "target":
            result.context_events += events
            result.context_alerts += alerts
            continue
        key = (str(name), str(src or "unknown"))
        cell = result.cells.get(key)
        if cell is None:
            intent_text = str(kind or "benign")
            cell = result.cells[key] = Cell(
                key[0], key[1], intent_text, expectations.expect(*key, intent_text)
            )
        cell.events += events
        cell.alerts += alerts
        if name == BACKGROUND_SCENARIO:
            result.background_events += events
    host = "struct_extract(\"host\", 'name')" if schema.get_field_index("host") >= 0 else "NULL"
    stamp = '"@timestamp"' if schema.get_field_index("@timestamp") >= 0 else "NULL"
    hosts, first, last = connection.execute(
        f"SELECT list(DISTINCT {host}), min({stamp}), max({stamp}) FROM {_source(path)}"
    ).fetchall()[0]
    result.hosts = {h for h in hosts or [] if isinstance(h, str)}
    result.first_ms, result.last_ms = _epoch_ms(first), _epoch_ms(last)
    for violation_cell in [
        c for c in result.cells.values() if c.wrong and c.expectation.status == "expected"
    ]:
        wanted = "NOT " if violation_cell.expectation.verdict == "alert" else ""
        example = _example(connection, path, scenario, source, role, violation_cell, f"{wanted}({condition})")
        if violation_cell.expectation.verdict == "alert":
            violation_cell.example_silent = example
        else:
            violation_cell.example_alert = example
    return result


def _example(
    connection: Any, path: str, scenario: str, source: str, role: str, cell: Cell, condition: str
) -> dict[str, Any] | None:
    where = (
        f"{scenario} = {_quote(cell.scenario)} AND {source} = {_quote(cell.source)} "
        f"AND coalesce({role}, 'target') = 'target' AND {condition}"
    )
    rows = connection.execute(f"SELECT to_json(t) FROM {_source(path)} t WHERE {where} LIMIT 1").fetchall()
    if not rows:
        return None
    document: dict[str, Any] = orjson.loads(rows[0][0])
    return document


def diff_parquet(
    old: Query, new: Query, path: str, expectations: Expectations, *, old_name: str, new_name: str
) -> DiffResult:
    schema = ds.dataset(path, format="parquet").schema
    before, after = translate(old, schema), translate(new, schema)
    connection = _connect()
    scenario, source, intent, role = (_label(schema, k) for k in ("scenario", "source", "intent", "role"))
    rows = connection.execute(
        f"SELECT {scenario}, {source}, {intent}, count(*), count(*) FILTER (WHERE {before}), "
        f"count(*) FILTER (WHERE {after}), count(*) FILTER (WHERE ({after}) AND NOT ({before})), "
        f"count(*) FILTER (WHERE ({before}) AND NOT ({after})) FROM {_source(path)} "
        f"WHERE {scenario} IS NOT NULL AND coalesce({role}, 'target') = 'target' GROUP BY ALL"
    ).fetchall()
    result = DiffResult(old_name, new_name, path)
    for name, src, kind, events, old_alerts, new_alerts, newly_alerting, newly_silent in rows:
        intent_text = str(kind or "benign")
        change = Change(
            str(name),
            str(src or "unknown"),
            intent_text,
            events,
            old_alerts,
            new_alerts,
            newly_alerting,
            newly_silent,
        )
        expectation = expectations.expect(change.scenario, change.source, intent_text)
        change.accepted = (intent_text == "malicious" and expectation.verdict == "silent") or (
            intent_text == "benign" and expectation.verdict == "alert"
        )
        if newly_alerting:
            change.example_newly_alerting = _example(
                connection, path, scenario, source, role, _cell(change), f"({after}) AND NOT ({before})"
            )
        if newly_silent:
            change.example_newly_silent = _example(
                connection, path, scenario, source, role, _cell(change), f"({before}) AND NOT ({after})"
            )
        result.changes[(change.scenario, change.source)] = change
    return result


def _cell(change: Change) -> Cell:
    from harness.validation.expectations import Expectation

    return Cell(change.scenario, change.source, change.intent, Expectation("silent"))

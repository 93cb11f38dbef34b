"""Many rules counted in one scan of a table: a ``count_if`` per rule, not a query per rule.

The scan groups the table by scenario, source, intent, role, index and host, and computes,
per group, the events, their first and last ``@timestamp`` and one alert count per rule.
Each rule's result is then built from those rows as :func:`validate_table` builds it: the
groups of the indices its scope reads counted into its cells, the hosts and time span of
those groups. What the rows cannot give, the example documents a report shows, is fetched
per rule, and only where a cell is wrong or the rule alerts on unlabelled telemetry.

Grouping by index lets one scan serve rules that read different indices: each rule's
read filter is applied to the rows, in Python, rather than to the table.

A rule the engine cannot express (:class:`EqlUnsupportedError` when its condition is
rendered) is left out of the scan, and :meth:`TableScan.validate` returns None for it: its
caller runs it alone, falling back as for one rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from harness.eql import Query, parse_query
from harness.errors import EqlUnsupportedError
from harness.sql import Terms
from harness.validation.columnar_runner import (
    condition_for,
    fill_cells,
    find_examples,
    group_columns,
    note_spans,
    read_filter,
    stamp_sql,
)
from harness.validation.expectations import Expectations
from harness.validation.runner import ValidationResult
from harness.validation.scope import RuleScope
from harness.validation.search_scan import SearchScan
from harness.validation.tables import DuckDbTable, EventTable

__all__ = ["TableScan"]

_GROUP = 6  # the labels, the index and the host (group_columns): the columns each row starts with


class TableScan:
    """The queries given, counted together on the first table :meth:`validate` is asked about."""

    def __init__(self, queries: Iterable[str], searches: SearchScan | None = None) -> None:
        self.queries = list(dict.fromkeys(queries))  # one count per distinct query text
        self.scanned: list[str] = []  # the queries the engine counted; the rest run alone
        self.count_seconds = 0.0  # the scan's, once it has run
        self.searches = searches  # the run's searched rules, their candidates selected in one scan
        self._rows: list[tuple[Any, ...]] | None = None
        self._table: tuple[EventTable | None] | None = None

    def table(self, open_table: Callable[[], EventTable | None]) -> EventTable | None:
        """The run's table, opened by ``open_table`` for the first rule and kept for the others.

        Every rule of the run reads the same corpus in the same engine; a connection per rule
        would only repeat the reading of the file's metadata.
        """
        if self._table is None:
            self._table = (open_table(),)
        return self._table[0]

    @property
    def seconds(self) -> float:
        """The time the run's shared scans took: the count, and the searched rules' candidates."""
        return self.count_seconds + (0.0 if self.searches is None else self.searches.seconds)

    @property
    def counted(self) -> bool:
        """Whether the scan has run (on the first rule that asked)."""
        return self._rows is not None

    def validate(
        self,
        query_text: str,
        table: EventTable,
        expectations: Expectations,
        *,
        rule_name: str,
        rule_version: int | None = None,
        scope: RuleScope | None = None,
    ) -> ValidationResult | None:
        """``query_text`` judged from the scan's rows, as ``validate_table`` would; None if not scanned."""
        rows = self._scan(table)
        if query_text not in self.scanned:
            return None
        column = _GROUP + 3 + self.scanned.index(query_text)  # after events, first and last
        query = parse_query(query_text)
        result = ValidationResult(
            rule_name, rule_version, str(query), table.location, expectations, scope=scope or RuleScope()
        )
        indices = {row[4] for row in rows}
        read = result.scope.indices.read_indices(indices)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for row in rows:
            counts = groups.setdefault(row[:5], [0, 0])
            counts[0] += row[_GROUP]
            counts[1] += row[column]
        fill_cells(result, [(*group, events, alerts) for group, (events, alerts) in groups.items()])
        note_spans(result, [(row[5], row[_GROUP + 1], row[_GROUP + 2]) for row in rows if row[4] in read])
        reads = read_filter(table, result.scope, indices)
        condition = condition_for(table, query)
        find_examples(result, table, condition if reads == "TRUE" else f"{reads} AND ({condition})")
        return result

    def _scan(self, table: EventTable) -> list[tuple[Any, ...]]:
        if self._rows is None:
            started = time.perf_counter()
            queries = [parse_query(text) for text in self.queries]
            # Many patterns on a few fields are judged on their distinct values, once (terms.py).
            terms = table.terms if isinstance(table, DuckDbTable) and len(queries) > 1 else None
            conditions = self._conditions(table, queries, terms)
            if terms is not None and terms.learn():
                conditions = self._conditions(table, queries, terms)
            relation = table.name if terms is None else terms.joined(table.name, conditions)
            grouped = ", ".join(group_columns(table))
            stamp = stamp_sql(table)
            counts = "".join(f", count_if({condition})" for condition in conditions)
            self._rows = table.rows(
                f"SELECT {grouped}, count(*), min({stamp}), max({stamp}){counts} "
                f"FROM {relation} GROUP BY {grouped}",
                f"events and alerts of {len(conditions)} rules",
            )
            self.count_seconds = time.perf_counter() - started
        return self._rows

    def _conditions(self, table: EventTable, queries: list[Query], terms: Terms | None) -> list[str]:
        """Each query's condition as an aggregate's argument, and which queries have one (``scanned``)."""
        self.scanned = []
        conditions = []
        for text, query in zip(self.queries, queries, strict=True):
            try:
                conditions.append(condition_for(table, query, as_value=True, terms=terms))
            except EqlUnsupportedError:
                continue  # runs alone, and falls back to a row engine as one rule would
            self.scanned.append(text)
        return conditions

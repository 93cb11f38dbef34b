"""Sequence, sample and piped rules on Parquet: DuckDB's candidate scan, the row runner's result.

A single-event rule whose condition DuckDB holds only in part (``length()``, ``substring``)
is searched here too, as a one-stage statement: the conjuncts SQL expresses select the
candidates and the compiled engine judges the whole query on their documents only, where
the row runner would decode every row of the table.

The row runner decodes every document to search it; here DuckDB reads every row only to
aggregate it. What every rule reads alike of a table is aggregated once while the table lives
(a many-rule run's rules share one): the indices present (a rule's read filter needs them) and
the events, time span and first row per scenario, source, intent, role, index and host. Per
rule, one statement runs over the whole table, the candidate scan of :mod:`harness.sql.stages`
(the rows any stage's or ``until``'s condition selects, among those the rule's indices read);
once the state machine has picked the sequences from the candidates, only the rows in them are
read again, their labels and groups (their attribution, and each group's count of them). Whole
documents are decoded only where a result shows them: the first sequences and the examples
(the first row in and out of a sequence per cell, as the row runner keeps them).

The candidates are every row that can change the state machine's answer: a row that no
stage, missing-event stage or ``until`` selects is never a hit, and a selected row whose
join key is missing joins nothing, as in the row runner. Elasticsearch does the same: each
stage, missing-event stage and ``until`` is a ``SequenceCriterion`` with a query of its own
(``BoxedQueryRequest``), and ``TumblingWindow`` runs the state machine over those hits only.

Positions are the row runner's: the rows in the order pyarrow's dataset reads them (its
files in order, each file's rows in order), which is also the implicit tiebreaker and a
sample's document order. The result equals :func:`run_sequence_validation`'s on the same
file, examples included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import pyarrow as pa

from harness.eql.ast import Statement
from harness.errors import EqlUnsupportedError
from harness.sql.stages import ROW, Positions, plan_scan

if TYPE_CHECKING:
    from harness.exceptions import ExceptionSet

from harness.validation.columnar_runner import (
    fill_cells,
    group_columns,
    index_sql,
    note_spans,
    read_filter,
    stamp_sql,
)
from harness.validation.expectations import Expectations
from harness.validation.runner import EXAMPLES, ValidationResult
from harness.validation.scope import RuleScope
from harness.validation.search_scan import SearchScan, candidate_rows
from harness.validation.sequences import ALL, SequenceTally, is_multi_event, statement_kind
from harness.validation.tables import DuckDbTable

__all__ = ["validate_sequence_table"]

_NUMBERED = "__harness_numbered"
_WANTED = "__harness_wanted"
_POSITION = f'"{ROW}"'


def validate_sequence_table(
    statement: Statement,
    table: DuckDbTable,
    expectations: Expectations,
    *,
    rule_name: str,
    rule_version: int | None = None,
    scope: RuleScope | None = None,
    exceptions: ExceptionSet | None = None,
    searches: SearchScan | None = None,
) -> ValidationResult:
    """``statement`` searched once over the rows of ``table`` that ``scope`` reads; every event
    judged by whether it is in a found sequence, every sequence counted. ``searches``: the run's
    rules scanned together (a many-rule run), which this one's candidates are taken from.

    Raises :class:`~harness.errors.EqlUnsupportedError` for a stage DuckDB cannot filter on
    (the caller falls back to the row runner), and for a rule with exceptions: the candidate scan
    counts one search, and the side by side needs the search with and without them, which the
    row runner makes (``run_sequence_validation``).
    """
    if exceptions is not None and exceptions.items:
        text = str(statement)
        raise EqlUnsupportedError(
            "a rule with exceptions is searched with and without them by the row engine, "
            "not by DuckDB's candidate scan",
            source=text,
            offset=0,
            width=len(text),
        )
    scope = scope or RuleScope()
    scan = plan_scan(statement, table.schema, engine="duckdb")
    numbered = _numbered(table, statement)
    indices = numbered.indices
    reads = read_filter(table, scope, indices)
    relation = _NUMBERED if reads == "TRUE" else f"(SELECT * FROM {_NUMBERED} WHERE {reads}) AS read_rows"
    shared = None
    if searches is not None:
        reading = partial(read_filter, table, indices=indices)
        shared = searches.candidates(statement, reads, table=table, relation=_NUMBERED, read_filter=reading)
    candidates = shared if shared is not None else _candidates(table, scan.sql(relation))
    _, groups = scan.found(candidates, numbered.documents, size=ALL)
    members = numbered.members(sorted({row for rows, _ in groups for row in rows if row is not None}))

    result = ValidationResult(
        rule_name, rule_version, str(statement), table.location, expectations, scope=scope
    )
    firsts = _count(result, numbered, members, scope.indices.read_indices(indices))
    labelled: dict[int, Mapping[str, Any]] = {row: labels for row, (labels, _) in members.items()}
    unlabelled = [row for row in members if _scenario(labelled[row]) is None][:EXAMPLES]
    shown = _shown(groups, firsts, unlabelled)
    documents = dict(zip(shown, numbered.shown(shown, many=searches is not None), strict=True))
    labelled |= documents
    tally = SequenceTally()
    for rows, key in groups:
        tally.count(tuple(None if row is None else labelled[row] for row in rows), key, scope)
    for cell_key, (alerting, silent) in firsts.items():
        cell = result.cells[cell_key]
        cell.example_alert = None if alerting is None else dict(documents[alerting])
        cell.example_silent = None if silent is None else dict(documents[silent])
    result.unlabelled_alerts = [dict(documents[row]) for row in unlabelled]
    if is_multi_event(statement):  # an event query's result has no sequences, as the row runner's
        result.sequences = tally
        result.statement_kind = statement_kind(statement)
    return result


def _count(
    result: ValidationResult, numbered: _Numbered, members: Members, read: set[str | None]
) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """Every row counted into ``result`` (cells, sources, hosts, time span); per cell, the first row
    in a found sequence and the first one in none.

    The table's groups are the same for every rule (:attr:`_Numbered.groups`); a rule adds only its
    members' groups, read with their labels. A group's first row is its first one in no sequence,
    unless that row is a member: only then is the table aggregated again, for those groups' first
    rows outside the members.
    """
    in_group: dict[tuple[Any, ...], list[int]] = {}
    for position, (_, of_group) in members.items():
        in_group.setdefault(of_group, []).append(position)
    rows: list[list[Any]] = []
    for *columns, events, first, last, start in numbered.groups:
        found = in_group.get(tuple(columns), [])
        silent = None if start in members else start
        rows.append([*columns, events, first, last, len(found), min(found, default=None), silent])
    unknown = [row for row in rows if row[_FIRST_SILENT] is None and row[_MEMBERS] < row[_EVENTS]]
    if unknown:
        outside = numbered.first_outside(list(members))
        for row in unknown:
            row[_FIRST_SILENT] = outside.get(tuple(row[:_GROUP]))
    totals: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        counts = totals.setdefault(tuple(row[:5]), [0, 0])
        counts[0] += row[_EVENTS]
        counts[1] += row[_MEMBERS]
    fill_cells(result, [(*group, events, alerts) for group, (events, alerts) in totals.items()])
    note_spans(result, [(row[5], row[7], row[8]) for row in rows if row[4] in read])
    firsts: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    for name, src, kind, part, index, *_, alerting, silent in rows:
        if index not in read or name is None or part not in _JUDGED:
            continue
        scenario = result.scope.counted_as(str(name), str(kind or "benign"))
        if scenario is None:
            continue
        key = (scenario, str(src or "unknown"))  # the cell fill_cells counted this group into
        known = firsts.get(key, (None, None))
        firsts[key] = (_least(known[0], alerting), _least(known[1], silent))
    return firsts


def _candidates(table: DuckDbTable, statement: str) -> list[tuple[Any, ...]]:
    """The rows of a rule's own candidate scan, read as those of a run's shared one are."""
    return candidate_rows(table.connection.sql(statement).to_arrow_table())


def _least(known: int | None, row: int | None) -> int | None:
    return row if known is None else known if row is None else min(known, row)


def _shown(
    groups: list[Positions],
    firsts: Mapping[tuple[str, str], tuple[int | None, int | None]],
    unlabelled: list[int],
) -> list[int]:
    """The rows whose whole document a result shows: the first sequences' events, the examples."""
    rows = {row for events, _ in groups[:EXAMPLES] for row in events if row is not None}
    rows |= {row for pair in firsts.values() for row in pair if row is not None}
    rows |= set(unlabelled)
    return sorted(rows)


def _scenario(document: Mapping[str, Any]) -> Any:
    """The scenario label, None for an unlabelled event: the SQL runners' ``labels.scenario IS NULL``."""
    labels = document.get("labels")
    return labels.get("scenario") if isinstance(labels, Mapping) else None


_GROUP = 6  # a group's columns: the four labels, the index and the host
_EVENTS, _MEMBERS, _FIRST_SILENT = _GROUP, _GROUP + 3, _GROUP + 5  # in a group's row of counts
_JUDGED = (None, "target")  # the roles whose events a cell judges
Members = dict[int, tuple[Mapping[str, Any], tuple[Any, ...]]]
"""The rows in a found sequence, each with its labels and its group."""

# The numbered view and what every rule reads alike of a table, kept while the table lives: the
# rules of a many-rule run share one table, and its indices, groups and first rows are theirs too.
_TABLES: WeakKeyDictionary[DuckDbTable, _Numbered] = WeakKeyDictionary()


def _numbered(table: DuckDbTable, statement: Statement) -> _Numbered:
    known = _TABLES.get(table)
    if known is None:
        known = _TABLES[table] = _Numbered(table, statement)
    return known


class _Numbered:
    """The table's rows numbered as the row runner reads them, and documents fetched by position."""

    def __init__(self, table: DuckDbTable, statement: Statement) -> None:
        import pyarrow.dataset as ds

        self.table = table
        shadowed = sorted({"filename", "file_row_number"} & set(table.schema.names))
        if shadowed:
            # A column of that name hides DuckDB's virtual column: the rows could not be numbered.
            raise EqlUnsupportedError(
                f"the corpus has a column {shadowed[0]!r}, which hides the row numbers DuckDB "
                "reads a sequence's order by",
                source=statement.source,
                offset=0,
            )
        dataset = ds.dataset(table.location, format="parquet")
        files: list[str] = list(dataset.files)
        offsets, start = [], 0
        for fragment in dataset.get_fragments():
            offsets.append(start)
            start += fragment.count_rows()
        sources = ", ".join(_quoted(name) for name in files)
        if len(files) == 1:
            position = "file_row_number"
        else:
            cases = " ".join(
                f"WHEN {_quoted(name)} THEN {offset}" for name, offset in zip(files, offsets, strict=True)
            )
            position = f"(CASE filename {cases} END) + file_row_number"
        # The files pyarrow's dataset reads (it skips ``_`` and ``.`` files a glob would take), in
        # its order, without hive partition columns it would not add: a row's number is its place
        # in the row runner's stream, and its document is the one the row runner reads.
        table.connection.execute(
            f"CREATE OR REPLACE TEMP VIEW {_NUMBERED} AS SELECT *, {position} AS {_POSITION} "
            f"FROM read_parquet([{sources}], hive_partitioning = false)"
        )
        self.group_parts = group_columns(table)
        self.grouped = ", ".join(self.group_parts)
        self._shown: dict[int, dict[str, Any]] = {}

    @cached_property
    def indices(self) -> set[str | None]:
        """The indices of the table's rows (a rule's read filter names those it reads)."""
        return {
            row[0] for row in self.table.rows(f"SELECT DISTINCT {index_sql(self.table)} FROM {_NUMBERED}")
        }

    @cached_property
    def groups(self) -> list[tuple[Any, ...]]:
        """Per scenario, source, intent, role, index and host: events, first and last ``@timestamp``,
        first row."""
        stamp = stamp_sql(self.table)
        return self.table.rows(
            f"SELECT {self.grouped}, count(*), min({stamp}), max({stamp}), min({_POSITION}) "
            f"FROM {_NUMBERED} GROUP BY {self.grouped}",
            "events per scenario, source and host",
        )

    def first_outside(self, positions: Sequence[int]) -> dict[tuple[Any, ...], int]:
        """Per group, its first row that is not at ``positions``."""
        position, wanted = f"{_NUMBERED}.{_POSITION}", f"{_WANTED}.p"
        with self.wanted(positions):
            rows = self.table.rows(
                f"SELECT {self.grouped}, min({position}) FROM {_NUMBERED} LEFT JOIN {_WANTED} "
                f"ON {position} = {wanted} WHERE {wanted} IS NULL GROUP BY {self.grouped}",
                "the first event of each group in no found sequence",
            )
        return {tuple(row[:_GROUP]): row[_GROUP] for row in rows}

    def wanted(self, positions: Sequence[int]) -> _Registered:
        return _Registered(self.table, pa.table({"p": pa.array(positions, pa.int64())}))

    def documents(self, positions: list[int]) -> list[dict[str, Any]]:
        """The whole documents at ``positions``, in that order, as the row runner reads them."""
        return self._fetch(positions, f"* EXCLUDE ({_POSITION})")

    def shown(self, positions: list[int], *, many: bool = False) -> list[dict[str, Any]]:
        """:meth:`documents`, kept. In a many-rule run (``many``) the first fetch takes the first row
        of every group a cell judges too (a labelled scenario's, its target's): those are the example
        of silence of every rule that finds no sequence there, and each fetch is a scan of the table."""
        missing = {row for row in positions if row not in self._shown}
        if many and missing and not self._shown:
            missing |= {group[-1] for group in self.groups if group[0] is not None and group[3] in _JUDGED}
        wanted = sorted(missing)
        self._shown.update(zip(wanted, self.documents(wanted), strict=True))
        return [self._shown[row] for row in positions]

    def members(self, positions: list[int]) -> Members:
        """The rows at ``positions`` as documents of their ``labels`` only (all an attribution
        reads), each with its group."""
        labelled = "labels" in self.table.schema.names
        aliased = [f"{part} AS __harness_g{index}" for index, part in enumerate(self.group_parts)]
        columns = ", ".join([*(["labels"] if labelled else []), *aliased])
        found = {row.pop("__harness_at"): row for row in self._fetch(positions, columns, keyed=True)}
        return {
            row: (
                {"labels": found[row]["labels"]} if labelled else {},
                tuple(found[row][f"__harness_g{index}"] for index in range(_GROUP)),
            )
            for row in positions
        }

    def _fetch(self, positions: list[int], columns: str, *, keyed: bool = False) -> list[dict[str, Any]]:
        if not positions:
            return []
        position = f"{_NUMBERED}.{_POSITION}"
        with self.wanted(sorted(set(positions))):
            found = self.table.connection.sql(
                f"SELECT {position} AS __harness_at, {columns} FROM {_NUMBERED} "
                f"WHERE {position} IN (SELECT p FROM {_WANTED})"
            ).to_arrow_table()
        if keyed:
            return list(found.to_pylist())
        rows = found.drop_columns(["__harness_at"]).to_pylist()
        at = dict(zip(found.column("__harness_at").to_pylist(), rows, strict=True))
        return [at[position] for position in positions]


class _Registered:
    """An Arrow table of positions registered on the table's connection for one statement."""

    def __init__(self, table: DuckDbTable, data: pa.Table) -> None:
        self.table, self.data = table, data

    def __enter__(self) -> None:
        self.table.connection.register(_WANTED, self.data)

    def __exit__(self, *_: object) -> None:
        self.table.connection.unregister(_WANTED)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"

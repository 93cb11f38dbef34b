"""Real telemetry: EVTX files and Winlogbeat's file output mapped to the documents Elastic indexes.

Sysmon event 1 becomes a ``logs-windows.sysmon_operational`` document, Security event
4688 a ``logs-system.security`` one. Every other record is counted by provider and
event id, never dropped silently; a record or chunk that cannot be read raises
:class:`~harness.errors.IngestError`, which carries every document read before and after it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError, IngestError
from harness.events import read_events
from harness.ingest import security, sysmon, winlogbeat
from harness.ingest.common import Doc, event_id, provider
from harness.ingest.evtx import EvtxRecord, RecordProblem, read_evtx

__all__ = ["IngestResult", "as_indexed", "ingest_evtx", "ingest_winlogbeat"]

_MAPPERS: dict[tuple[str, str], Callable[[Doc], Doc]] = {
    (sysmon.PROVIDER, "1"): sysmon.map_process_create,
    (security.PROVIDER, "4688"): security.map_process_created,
}


@dataclass
class IngestResult:
    """What one or more files gave: documents, records read, and what was skipped and why."""

    documents: list[Doc] = field(default_factory=list)
    records: int = 0
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def by_code(self) -> Counter[str]:
        return Counter(str(doc["event"]["code"]) for doc in self.documents)


def ingest_evtx(path: str | Path, *, strict: bool = True, into: IngestResult | None = None) -> IngestResult:
    """Map every record of ``path``; add to ``into`` when given.

    With ``strict`` (the default), a record or chunk that cannot be read raises
    :class:`IngestError` once the rest of the file is read; the error's ``partial``
    holds every document mapped. Without it, problems are listed in ``problems``.
    """
    path = Path(path)
    result = IngestResult() if into is None else into
    first_problem: str | None = None
    for item in read_evtx(path):
        if isinstance(item, RecordProblem):
            message = f"{path}: {item}"
            result.problems.append(message)
            first_problem = first_problem or str(item)
            continue
        _add(result, item)
    if strict and first_problem is not None:
        raise IngestError(str(path), first_problem, partial=result)
    return result


def ingest_winlogbeat(
    path: str | Path, *, strict: bool = True, into: IngestResult | None = None
) -> IngestResult:
    """Map every line of a Winlogbeat ``output.file`` file (NDJSON, gzip or a JSON array).

    A line that is not JSON stops the read (:class:`~harness.errors.InputError`, with its
    line and column). A line with no ``winlog`` block is a problem, handled as a damaged
    EVTX record is: with ``strict``, :class:`IngestError` once the file is read.
    """
    result = IngestResult() if into is None else into
    first_problem: str | None = None
    for record in read_events([str(path)]):
        key = winlogbeat.key(record.event)
        if key is None:
            problem = (
                f"line {record.line}: not a Winlogbeat event (no winlog.provider_name and winlog.event_id)"
            )
            result.problems.append(f"{path}: {problem}")
            first_problem = first_problem or problem
            continue
        result.records += 1
        mapper = _MAPPERS.get(key)
        if mapper is None:
            result.skipped[key] += 1
        elif winlogbeat.is_mapped(record.event):
            result.documents.append(record.event)
        else:
            try:
                result.documents.append(mapper(winlogbeat.to_record(record.event)))
            except ValueError as error:
                problem = f"line {record.line}: {error}"
                result.problems.append(f"{path}: {problem}")
                first_problem = first_problem or problem
    if strict and first_problem is not None:
        raise IngestError(str(path), first_problem, partial=result)
    return result


def as_indexed(document: Doc) -> Doc:
    """A raw Winlogbeat 8 Sysmon 1 or 4688 event mapped as its ingest pipeline would; else unchanged.

    Winlogbeat 8 leaves the ECS mapping to Elasticsearch's ingest pipelines, so its file
    output has ``winlog.event_data`` but no ``process``: a corpus of such lines is mapped
    on the way in, the way the index would hold it.
    """
    if winlogbeat.is_mapped(document):  # first: it is one lookup, and most lines of a corpus are
        return document
    key = winlogbeat.key(document)
    mapper = _MAPPERS.get(key) if key is not None else None
    if mapper is None:
        return document
    try:
        return mapper(winlogbeat.to_record(document))
    except ValueError as error:
        record = (document.get("winlog") or {}).get("record_id", "?")
        raise HarnessError(f"Winlogbeat record {record}: {error}; it cannot be placed in time") from error


def _add(result: IngestResult, record: EvtxRecord) -> None:
    result.records += 1
    key = (provider(record.event), event_id(record.event))
    mapper = _MAPPERS.get(key)
    if mapper is None:
        result.skipped[key] += 1
        return
    result.documents.append(mapper(record.event))

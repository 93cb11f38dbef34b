"""Labels for real telemetry: a TOML sidecar saying which recorded events are which scenario.

Real events carry no ``labels.*``; a sidecar gives them the same labels the generators
write, so a real corpus is scored like a synthetic one::

    [defaults]              # optional: what every event no entry selects is
    scenario = "lab-background"
    intent = "benign"

    [[events]]
    scenario = "appcmd-list-apppool-text-field"
    intent = "malicious"
    record_ids = [5, 7]                                  # winlog.record_id
    where = 'process.command_line : "*processmodel.password*"'   # an EQL condition

An event takes the first entry that selects it (by record id or by condition). The
data source is read from the document's dataset unless the entry names one. An entry
that selects nothing is reported, since it is most likely a typo.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from generators.sources import SOURCES, security, sysmon
from harness.eql import Matcher, compile_query
from harness.eql.fields import field_values
from harness.errors import HarnessError
from harness.validation.expectations import INTENTS, ExpectationError, read_toml

__all__ = ["LabelEntry", "LabelSidecar", "load_labels", "source_from_shape"]

# The data source names the generators and the expectations use, by the dataset that indexes them
# (the first source of each dataset: 4688 without a command line is told apart below).
_SOURCES = {src.dataset: src.name for src in reversed(SOURCES.values()) if src.dataset is not None}
_EVENTS_HEADER = re.compile(r"\s*\[\[\s*events\s*\]\]\s*(#.*)?$")
_ENTRY_KEYS = {"scenario", "intent", "source", "role", "record_ids", "where"}


def source_from_shape(doc: Mapping[str, Any]) -> str:
    """The data source whose document shape ``doc`` has (its data stream, its module); ``unknown`` if none.

    For a real log without labels: ``scope.source_of`` reads the label the generators write.
    """
    datasets = field_values(doc, ("data_stream", "dataset")) or field_values(doc, ("event", "dataset"))
    for dataset in datasets:
        source = _SOURCES.get(str(dataset))
        if source == security.WITH_COMMAND_LINE.name and not field_values(doc, ("process", "command_line")):
            return security.WITHOUT_COMMAND_LINE.name
        if source is not None:
            return source
    if "sysmon" in field_values(doc, ("event", "module")):
        return sysmon.WINLOGBEAT.name
    return "unknown"


@dataclass(frozen=True)
class LabelEntry:
    scenario: str
    intent: str
    line: int
    source: str | None = None
    role: str = "target"
    record_ids: frozenset[int] = frozenset()
    where: Matcher | None = None

    def selects(self, doc: Mapping[str, Any]) -> bool:
        # The integrations store winlog.record_id as a string ("5892"); Winlogbeat 8 lines as a number.
        if self.record_ids and any(
            _record_number(r) in self.record_ids for r in field_values(doc, ("winlog", "record_id"))
        ):
            return True
        return self.where is not None and self.where.matches(doc)


def _record_number(value: object) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


@dataclass
class LabelSidecar:
    path: str
    entries: tuple[LabelEntry, ...]
    default: LabelEntry | None = None
    selected: list[int] = field(default_factory=list)  # events each entry labelled, in order

    def apply(self, documents: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        """Each document with ``labels`` from the first entry that selects it (or the defaults)."""
        self.selected = [0] * len(self.entries)
        for doc in documents:
            entry = None
            for index, candidate in enumerate(self.entries):
                if candidate.selects(doc):
                    entry = candidate
                    self.selected[index] += 1
                    break
            entry = entry or self.default
            if entry is None:
                yield dict(doc)
                continue
            labels = {
                "scenario": entry.scenario,
                "intent": entry.intent,
                "role": entry.role,
                "source": entry.source or source_from_shape(doc),
            }
            yield {**doc, "labels": labels}

    def unused(self) -> list[LabelEntry]:
        """Entries that selected no event in the last :meth:`apply`: most likely a typo."""
        return [e for e, n in zip(self.entries, self.selected, strict=True) if n == 0]


def load_labels(path: str | os.PathLike[str]) -> LabelSidecar:
    """Read and check a labels sidecar; every mistake names the file and the line."""
    name = str(path)
    text, data = read_toml(path)
    unknown = set(data) - {"defaults", "events"}
    if unknown:
        raise ExpectationError(name, f"unknown table {sorted(unknown)[0]!r}: use [defaults] and [[events]]")
    headers = [i + 1 for i, line in enumerate(text.splitlines()) if _EVENTS_HEADER.match(line)]
    raw_entries = data.get("events", [])
    if not isinstance(raw_entries, list):
        raise ExpectationError(name, "events must be an array of tables: write [[events]]")
    entries = tuple(
        _entry(name, raw, headers[i] if i < len(headers) else None, selector=True)
        for i, raw in enumerate(raw_entries)
    )
    default = None
    if "defaults" in data:
        line = next((i + 1 for i, s in enumerate(text.splitlines()) if s.strip() == "[defaults]"), None)
        default = _entry(name, data["defaults"], line, selector=False)
    return LabelSidecar(name, entries, default)


def _entry(path: str, raw: Any, line: int | None, *, selector: bool) -> LabelEntry:
    def fail(message: str) -> ExpectationError:
        return ExpectationError(path, message, line)

    if not isinstance(raw, dict):
        raise fail("an entry must be a table")
    allowed = _ENTRY_KEYS if selector else {"scenario", "intent", "source", "role"}
    unknown = set(raw) - allowed
    if unknown:
        raise fail(f"unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(allowed))}")
    scenario, intent = raw.get("scenario"), raw.get("intent")
    if not isinstance(scenario, str) or not scenario:
        raise fail("scenario is required (a name; the catalogue's names pick up the rule's expectations)")
    if intent not in INTENTS:
        raise fail(f"intent must be one of {', '.join(INTENTS)}, not {intent!r}")
    source, role = raw.get("source"), raw.get("role", "target")
    if source is not None and not isinstance(source, str):
        raise fail("source must be a string")
    if role not in ("target", "context"):
        raise fail(f"role must be target or context, not {role!r}")
    record_ids = raw.get("record_ids", [])
    if not isinstance(record_ids, list) or not all(type(r) is int for r in record_ids):
        raise fail("record_ids must be a list of integers (winlog.record_id)")
    where = raw.get("where")
    matcher = None
    if where is not None:
        if not isinstance(where, str):
            raise fail("where must be an EQL condition in a string")
        try:
            matcher = compile_query(f"any where {where}")
        except HarnessError as error:
            raise fail(f"where is not a valid EQL condition: {error}") from error
    if selector and not record_ids and matcher is None:
        raise fail("an entry needs record_ids or where, to say which events it labels")
    return LabelEntry(scenario, intent, line or 0, source, role, frozenset(record_ids), matcher)

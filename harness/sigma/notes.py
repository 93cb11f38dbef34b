"""What a Sigma rule's conversion does that its author may not expect, said rather than fixed.

The harness evaluates the backend's EQL exactly as it evaluates any EQL. Where that EQL
relies on what the harness does not model, or Elasticsearch refuses, the conversion says
so (a note on the rule, or an error), and the query is left as the backend wrote it:

- a field the ``ecs_windows`` pipeline has no ECS name for becomes
  ``winlog.event_data.<Field>``; when neither ECS nor any integration of the field catalogue
  defines that name, no document holds it and the item can never match: an error naming the
  detection item, as a misspelt field is the likeliest cause;
- a multi-field (``process.executable.caseless``): Elasticsearch indexes it from its parent
  where an index's mapping defines it (Elastic Defend's does, lowercased); the harness reads
  each document's ``_source``, which never holds it, so that comparison is false here;
- ``any where``: ``ecs_windows`` adds no event condition for a ``category`` logsource, so the
  query reads every event that has the fields, process ends as well as starts;
- EQL that Elasticsearch's grammar refuses (the backend writes an escaped Sigma wildcard as
  ``\\*``, which no EQL string may hold): an error naming the detection item, since Kibana
  would not create the rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.eql.mapping import ECS
from harness.eql.matcher import parse_statement
from harness.errors import EqlError, RuleLoadError
from harness.rules import ConversionNote
from harness.sigma.source import detection_line

__all__ = ["conversion_notes", "field_names", "refused", "unknown_fields"]

_UNMAPPED_PREFIX = "winlog.event_data."
_PREFIX_ITEM = "ecs_windows_winlog_eventdata_prefix"  # the pipeline's item for fields it has no name for
_OBJECTS = ("object", "nested", "flattened")


def field_names(written: Any, converted: Any) -> tuple[tuple[str, str], ...]:
    """Each Sigma field the rule names, with the field the pipeline renamed it to, once each."""
    pairs = {
        (before.field, after.field): None
        for _, before, after in _item_pairs(written, converted)
        if before.field is not None
    }
    return tuple(pairs)


def unknown_fields(path: str, text: str, written: Any, converted: Any) -> None:
    """Raise for the first field the pipeline could not name and no catalogued source defines."""
    for name, before, after in _item_pairs(written, converted):
        field = after.field
        if field is None or not after.was_processed_by(_PREFIX_ITEM) or field in ECS.types:
            continue
        category = written.logsource.category or written.logsource.service or "this"
        raise RuleLoadError(
            path,
            f"detection item {name!r}: field {before.field!r} has no ECS name in the {category!r} "
            f"mappings of the ecs_windows pipeline, and {field}, which it would search instead, is "
            "defined by neither ECS nor any integration in the field catalogue: no event holds it. "
            "Check the field's spelling against Sigma's taxonomy for the logsource",
            line=detection_line(text, name),
        )


def refused(path: str, text: str, written: Any, query: str) -> None:
    """Raise when Elasticsearch's EQL grammar refuses ``query``, naming the detection item it came from."""
    try:
        parse_statement(query)
    except EqlError as e:
        literal = _literal_at(query, e.offset)
        name = _detection_holding(text, written, literal.strip('"').strip("*")) if literal else None
        item = f"detection item {name!r}: " if name else ""
        hint = ""
        if "escape sequence" in e.message:
            hint = (
                "; the backend writes an escaped Sigma wildcard as \\* or \\?, which no EQL string may hold, "
                "and no EQL wildcard pattern can match a literal * or ? (a regular expression can: "
                "'|re: .*:\\*.*')"
            )
        raise RuleLoadError(
            path,
            f"{item}the EQL pySigma wrote for this rule is refused by Elasticsearch's EQL grammar, so "
            f"Kibana would not create the rule: {e.message} at column {e.column} of {literal or 'the query'}"
            f"{hint}",
            line=detection_line(text, name) if name else None,
        ) from None


def conversion_notes(written: Any, converted: Any, query: str) -> tuple[ConversionNote, ...]:
    """The notes a report shows for the converted rule."""
    notes: list[ConversionNote] = []
    if query.lstrip().startswith("any where"):
        logsource = written.logsource
        notes.append(
            ConversionNote(
                "info",
                "sigma-any-category",
                f"the query reads every event category (any where): the {logsource.category or 'rule'}"
                " logsource adds no event condition in ecs_windows, so every event that has these "
                "fields matches, process ends as well as starts",
            )
        )
    seen: set[str] = set()
    for name, before, after in _item_pairs(written, converted):
        field = after.field
        parent = field.rsplit(".", 1)[0] if field and "." in field else None
        if field in seen or parent is None or ECS.types.get(parent, "object") in _OBJECTS:
            continue
        seen.add(field)
        notes.append(
            ConversionNote(
                "warning",
                "sigma-multi-field",
                f"{before.field} (detection item {name!r}) became {field}, a multi-field "
                f"Elasticsearch indexes from {parent} where an index's mapping defines it (Elastic "
                "Defend's does); the harness reads each document's _source, which never holds it, "
                f"so every comparison on {field} is false here",
            )
        )
    return tuple(notes)


def _item_pairs(written: Any, converted: Any) -> Iterator[tuple[str, Any, Any]]:
    """(detection name, item as written, item as converted), for every item of both rules."""
    for name, detection in written.detection.detections.items():
        after = converted.detection.detections[name]
        for before_item, after_item in zip(_items(detection), _items(after), strict=False):
            yield name, before_item, after_item


def _items(detection: Any) -> Iterator[Any]:
    for item in detection.detection_items:
        if hasattr(item, "detection_items"):
            yield from _items(item)
        else:
            yield item


def _literal_at(query: str, offset: int) -> str | None:
    """The double-quoted string of ``query`` around ``offset``, quotes included."""
    start = query.rfind('"', 0, offset + 1)
    end = query.find('"', offset + 1)
    return query[start : end + 1] if start >= 0 and end > start else None


def _detection_holding(text: str, written: Any, core: str) -> str | None:
    """The detection whose lines in ``text`` hold ``core``: the one written just above it."""
    if not core:
        return None
    names = set(written.detection.detections)
    current = None
    for line in text.splitlines():
        key = line.strip().rstrip(":")
        if line.startswith((" ", "\t")) and line.rstrip().endswith(":") and key in names:
            current = key
        elif core in line and current is not None:
            return current
    return None

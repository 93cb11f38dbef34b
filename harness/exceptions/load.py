"""Reading exceptions: Kibana's exception list export, a rule export, or the TOML form beside a rule.

Lines are classified as Kibana's importers classify them: ``sortImports``
(``rule_management/logic/import/create_rules_stream_from_ndjson.ts``) takes a line with
``list_id``, ``item_id`` or ``entries`` as an exception object, one with ``attributes`` as an
action connector and any other as a rule; ``sortExceptionsStream``
(``lists/server/services/exception_lists/utils/import/create_exceptions_stream_logic.ts``) takes
an exception object with ``entries`` or ``item_id`` as an item and the rest as lists; the
summary line (``exported_count`` / ``exported_exception_list_count``) is dropped by
``filterExportedCounts``. A rule's ``exceptions_list`` references pick the lists it applies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.eql.mapping import ECS, FieldMapping
from harness.errors import HarnessError, InputError, UsageError
from harness.exceptions.model import ExceptionItem, ExceptionList, ExceptionSet
from harness.exceptions.resolve import resolve_value_lists
from harness.exceptions.schema import SchemaError, parse_item, parse_list
from harness.exceptions.toml_form import load_toml

__all__ = ["ValueListSource", "load_exceptions"]

ValueListSource = Path | str | Mapping[str, Path | str] | None
# Kibana's rule export never includes the Endpoint Security list (``NON_EXPORTABLE_LIST_IDS`` in
# ``get_export_rule_exceptions.ts``), so a rule's reference to it finds no lines.
ENDPOINT_LIST_ID = "endpoint_list"


def load_exceptions(
    path: str | Path,
    *,
    value_lists: ValueListSource = None,
    rule_id: str | None = None,
    mapping: FieldMapping = ECS,
) -> ExceptionSet:
    """The exceptions one rule applies, read from ``path``.

    ``path`` is an exception list export or a rule export (NDJSON), or ``X.exceptions.toml``.
    ``value_lists`` locates the files of the value lists ``list`` entries name: a directory
    holding one file per list, named by the list's id, or a mapping of list id to file;
    without it, the directory of ``path``. ``rule_id`` picks the rule of a rule export with
    several. ``mapping`` gives the field types entries are judged with (ECS by default).
    """
    source = Path(path)
    if source.name.endswith(".toml"):
        lists, items = load_toml(source)
        warnings: list[str] = []
        if rule_id is not None:
            raise UsageError(f"{source}: a TOML exceptions file holds no rules; drop the rule id {rule_id!r}")
    else:
        lists, items, warnings = _load_ndjson(source, rule_id)
    base = Path(value_lists) if isinstance(value_lists, (str, Path)) else source.parent
    files = value_lists if isinstance(value_lists, Mapping) else None
    loaded, applied, unapplied, more, used = resolve_value_lists(items, base, files)
    return ExceptionSet(
        items=applied,
        lists=lists,
        value_lists=loaded,
        unapplied=unapplied,
        warnings=(*warnings, *more),
        sources=(str(source), *used),
        mapping=mapping,
    )


def _load_ndjson(
    path: Path, rule_id: str | None
) -> tuple[tuple[ExceptionList, ...], tuple[ExceptionItem, ...], list[str]]:
    rules: list[tuple[int, Mapping[str, Any]]] = []
    lists: list[tuple[int, ExceptionList]] = []
    items: list[tuple[int, ExceptionItem]] = []
    for number, obj in _objects(path):
        try:
            if "exported_count" in obj or "exported_exception_list_count" in obj:
                continue
            if "list_id" in obj or "item_id" in obj or "entries" in obj:
                if "entries" in obj or "item_id" in obj:
                    items.append((number, parse_item(obj)))
                else:
                    lists.append((number, parse_list(obj)))
            elif "attributes" not in obj:  # an action connector: nothing of the exceptions
                rules.append((number, obj))
        except SchemaError as error:
            raise InputError(
                str(path), number, f"{error}; fix the line or re-export it from Kibana"
            ) from error
    known = {(exc_list.list_id, exc_list.namespace_type) for _, exc_list in lists}
    warnings = [
        f"{path}:{number}: item {item.name!r} names list {item.list_id!r}, which has no line in the file"
        for number, item in items
        if (item.list_id, item.namespace_type) not in known
    ]
    if not rules:
        if rule_id is not None:
            raise UsageError(
                f"{path}: no rule lines (an exception list export); drop the rule id {rule_id!r}"
            )
        return tuple(x for _, x in lists), tuple(x for _, x in items), warnings
    number, rule = _pick_rule(path, rules, rule_id)
    wanted = _references(path, number, rule)
    for list_id, namespace in sorted(wanted - known):
        note = (
            " (Kibana's rule export leaves the Endpoint Security list out)"
            if list_id == ENDPOINT_LIST_ID
            else ""
        )
        warnings.append(
            f"{path}:{number}: the rule references list {list_id!r} ({namespace}), not in the file{note}"
        )
    return (
        tuple(x for _, x in lists if (x.list_id, x.namespace_type) in wanted),
        tuple(x for _, x in items if (x.list_id, x.namespace_type) in wanted),
        [w for w in warnings if "has no line" not in w],
    )


def _objects(path: Path) -> list[tuple[int, Mapping[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HarnessError(f"{path}: cannot read the exceptions file: {error}") from error
    out: list[tuple[int, Mapping[str, Any]]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue  # Kibana's stream drops empty lines too
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(
                str(path),
                number,
                f"not JSON ({error.msg}); each line must be one JSON object",
                column=error.colno,
            ) from error
        if not isinstance(obj, dict):
            raise InputError(str(path), number, "expected a JSON object per line")
        out.append((number, obj))
    return out


def _pick_rule(
    path: Path, rules: list[tuple[int, Mapping[str, Any]]], rule_id: str | None
) -> tuple[int, Mapping[str, Any]]:
    ids = [str(rule.get("rule_id")) for _, rule in rules]
    if rule_id is not None:
        for found in rules:
            if found[1].get("rule_id") == rule_id:
                return found
        raise UsageError(f"{path}: no rule with rule_id {rule_id!r}; the file has {', '.join(ids)}")
    if len(rules) > 1:
        raise UsageError(
            f"{path}: the export holds {len(rules)} rules ({', '.join(ids)}); pick one by its rule_id"
        )
    return rules[0]


def _references(path: Path, number: int, rule: Mapping[str, Any]) -> set[tuple[str, str]]:
    refs = rule.get("exceptions_list", [])
    if not isinstance(refs, list):
        raise InputError(
            str(path), number, "exceptions_list: expected an array of {id, list_id, type, namespace_type}"
        )
    wanted = set()
    for index, ref in enumerate(refs):
        if not isinstance(ref, Mapping) or not isinstance(ref.get("list_id"), str) or not ref["list_id"]:
            raise InputError(
                str(path), number, f"exceptions_list[{index}]: expected an object with a list_id"
            )
        namespace = ref.get("namespace_type", "single")
        wanted.add((ref["list_id"], str(namespace)))
    return wanted

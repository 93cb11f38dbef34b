"""The value lists an item's ``list`` entries name, read, and the items Kibana leaves out for them.

``filterOutUnprocessableValueLists`` (``build_exception_filter.ts``) keeps an item with a value
list in the search only when every list it names is processable (``isListTypeProcessable``,
``MAXIMUM_SMALL_VALUE_LIST_SIZE``); the EQL executor only warns about the rest
("The following exceptions won't be applied to rule execution", ``rule_types/utils/utils.ts``)
and filters nothing after the search.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.errors import HarnessError
from harness.exceptions.model import ExceptionItem, ListEntry, Nested
from harness.exceptions.values import ValueList, read_value_list

__all__ = ["resolve_value_lists"]


def resolve_value_lists(
    items: tuple[ExceptionItem, ...], base: Path, files: Mapping[str, Path | str] | None
) -> tuple[dict[str, ValueList], tuple[ExceptionItem, ...], tuple[ExceptionItem, ...], list[str], list[str]]:
    """``(lists by id, applied items, unapplied items, warnings, files read)``."""
    loaded: dict[str, ValueList] = {}
    used: list[str] = []
    applied: list[ExceptionItem] = []
    unapplied: list[ExceptionItem] = []
    warnings: list[str] = []
    for item in items:
        problems = []
        for entry in item.entries:
            if isinstance(entry, Nested) or not isinstance(entry, ListEntry):
                continue
            known = loaded.get(entry.list_id)
            if known is None:
                file = _file_of(entry.list_id, base, files)
                known = loaded[entry.list_id] = read_value_list(file, entry.list_id, entry.list_type)
                used.append(str(file))
            elif known.type != entry.list_type:
                raise HarnessError(
                    f"value list {entry.list_id!r} is referenced as {known.type} and as {entry.list_type} "
                    f"(item {item.name!r}); a list has one type"
                )
            problem = known.problem()
            if problem is not None:
                problems.append(problem)
        if problems:
            unapplied.append(item)
            warnings.append(
                f"exception item {item.name!r} is not applied by Kibana for EQL rules: {'; '.join(problems)}"
            )
        else:
            applied.append(item)
    return loaded, tuple(applied), tuple(unapplied), warnings, used


def _file_of(list_id: str, base: Path, files: Mapping[str, Path | str] | None) -> Path:
    if files is not None:
        if list_id not in files:
            raise HarnessError(
                f"value list {list_id!r} has no file; add it to the value lists given "
                f"(known: {', '.join(sorted(files)) or 'none'})"
            )
        return Path(files[list_id])
    if "/" in list_id or "\\" in list_id or list_id in (".", ".."):
        raise HarnessError(
            f"value list id {list_id!r} cannot name a file; give the lists as a mapping of id to file"
        )
    file = base / list_id
    if not file.is_file():
        raise HarnessError(
            f"value list {list_id!r}: no file {file}; export it from Kibana (one value per line) and save it "
            "under the list's id beside the exceptions, or give its directory"
        )
    return file

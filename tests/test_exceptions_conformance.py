"""Runs tests/conformance/exceptions.toml: one test per case, each through ``load_exceptions``.

A case's item (and its value lists) is written as Kibana's exception list export would write
it and read back, so the loader, the value list rules and the document semantics are judged
together. ``why`` names the Kibana or Elasticsearch source that decides the case.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import harness.errors
from harness.eql.mapping import ECS, FieldMapping
from harness.exceptions import load_exceptions
from harness.timestamps import epoch_ms

CASES_FILE = Path(__file__).parent / "conformance" / "exceptions.toml"


@dataclass(frozen=True)
class Case:
    id: str
    raw: dict[str, Any]

    @property
    def why(self) -> str:
        return str(self.raw["why"])


CASES = [Case(raw["id"], raw) for raw in tomllib.loads(CASES_FILE.read_text(encoding="utf-8"))["exception"]]


def _item(entries: list[dict[str, Any]], index: int, raw: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "description": "",
        "entries": entries,
        "item_id": f"item-{index}",
        "list_id": "conformance",
        "name": f"item {index}",
        "type": "simple",
    }
    for key in ("os_types", "expire_time"):
        if key in raw and index == 0:
            item[key] = raw[key]
    return item


def _write_case(case: Case, folder: Path) -> Path:
    raw = case.raw
    lines = [{"description": "", "list_id": "conformance", "name": "conformance", "type": "detection"}]
    lines.append(_item(raw["entries"], 0, raw))
    if "or_entries" in raw:
        lines.append(_item(raw["or_entries"], 1, raw))
    for list_id, spec in raw.get("lists", {}).items():
        values = list(spec["values"])
        values += [f"filler-{n}" for n in range(spec.get("filler", 0))]
        values += [
            f"10.9.{n // 250}.{n % 250}-10.9.{n // 250}.{n % 250 + 1}"
            for n in range(spec.get("dash_filler", 0))
        ]
        (folder / list_id).write_text("".join(f"{v}\n" for v in values), encoding="utf-8")
    path = folder / "export.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _mapping(raw: dict[str, Any]) -> FieldMapping:
    types = {**ECS.types, **raw.get("types", {})}
    return FieldMapping(types, ECS.ignore_above, ECS.limits, ECS.dynamic, ECS.exact)


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_case_states_one_outcome_and_a_source() -> None:
    bad = [c.id for c in CASES if ("excluded" in c.raw) == ("error" in c.raw) or not c.why]
    assert not bad, f"cases need exactly one of excluded/error, and a why: {bad}"


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_exception_conformance(case: Case, tmp_path: Path) -> None:
    raw = case.raw
    exceptions = load_exceptions(_write_case(case, tmp_path), mapping=_mapping(raw))
    if "at" in raw:
        start = epoch_ms(raw["at"])
        assert start is not None
        exceptions = exceptions.active_at(start)
    if "warning" in raw:
        assert any(raw["warning"] in w for w in exceptions.warnings), exceptions.warnings
    else:
        assert not exceptions.warnings
    event = json.loads(raw["event"])
    if "error" in raw:
        with pytest.raises(getattr(harness.errors, raw["error"])):
            exceptions.excludes(event)
        return
    assert exceptions.excludes(event) is raw["excluded"], (
        f"{case.why}\nitems: {exceptions.items}\nevent: {event}"
    )

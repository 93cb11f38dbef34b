"""The bundled field catalogue against real rules, and its build on a small tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.eql import ECS, parse_query
from harness.errors import HarnessError
from harness.field_catalogue.build import build, main
from harness.field_catalogue.sources import Tree
from harness.rules import load_rule

ROOT = Path(__file__).resolve().parent.parent
ELASTIC_RULES = ROOT.parent / "shared" / "data" / "rules" / "elastic"
SAMPLE = sorted(ELASTIC_RULES.rglob("*.toml")) if ELASTIC_RULES.is_dir() else []


def _compiles_without_mapping(path: Path) -> str | None:
    """The rule's query if it is a single-event query that compiles without a mapping."""
    try:
        query = load_rule(path).query
        parse_query(query)
    except HarnessError:
        return None  # sequences, samples and what the harness rejects anyway
    return query


# Sequences and samples are not compiled yet: only the rules that compile without a mapping
# are held to compiling with one.
COMPILING = [(path, query) for path in SAMPLE if (query := _compiles_without_mapping(path)) is not None]


@pytest.mark.shared
@pytest.mark.skipif(not SAMPLE, reason=f"Elastic's rules are not at {ELASTIC_RULES} (../shared is absent)")
@pytest.mark.parametrize(("path", "query"), COMPILING, ids=[p.stem for p, _ in COMPILING])
def test_a_rule_that_compiles_compiles_with_ecs(path: Path, query: str) -> None:
    parse_query(query, mapping=ECS)


ECS_FLAT = """\
'@timestamp':
  type: date
file.path:
  type: keyword
  ignore_above: 1024
  multi_fields:
  - {name: text, type: match_only_text}
labels:
  type: object
  object_type: keyword
"""

FIELDS = """\
- name: file.path
  external: ecs
- name: winlog
  type: group
  fields:
  - {name: event_data.TargetImage, type: keyword}
  - {name: record_id, type: keyword, ignore_above: 256}
  - name: note
    type: text
    multi_fields:
    - {name: keyword, type: keyword}
"""


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    ecs = tmp_path / "ecs"
    (ecs / "generated" / "ecs").mkdir(parents=True)
    (ecs / "generated" / "ecs" / "ecs_flat.yml").write_text(ECS_FLAT, encoding="utf-8")
    (ecs / "version").write_text("9.3.0\n", encoding="utf-8")
    package = tmp_path / "integrations" / "packages" / "windows"
    (package / "data_stream" / "sysmon" / "fields").mkdir(parents=True)
    (package / "manifest.yml").write_text("name: windows\nversion: 3.1.0\n", encoding="utf-8")
    (package / "data_stream" / "sysmon" / "fields" / "winlog.yml").write_text(FIELDS, encoding="utf-8")
    return ecs, tmp_path / "integrations"


def test_build_resolves_fields_as_fleet_does(trees: tuple[Path, Path]) -> None:
    ecs, integrations = trees
    document = build(Tree(ecs), [Tree(integrations)]).document()
    assert document["sources"]["ecs"]["version"] == "9.3.0"
    assert document["sources"]["packages"] == {"windows": {"version": "3.1.0", "commit": None}}
    fields = document["fields"]
    assert fields["@timestamp"] == "date"
    assert fields["file.path"] == "keyword"
    assert fields["file.path.text"] == "match_only_text"
    assert fields["winlog.event_data.TargetImage"] == "keyword"
    assert fields["winlog"] == "object"
    assert document["ignore_above"] == {"winlog.record_id": 256, "winlog.note": 1024}
    assert document["exact"] == {"winlog.note": "winlog.note.keyword"}
    assert document["dynamic"] == {"labels": "keyword"}


def test_build_writes_the_file_atomically(trees: tuple[Path, Path], tmp_path: Path) -> None:
    ecs, integrations = trees
    out = tmp_path / "out.json"
    assert main(["--ecs", str(ecs), "--integrations", str(integrations), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["fields"]["winlog.record_id"] == "keyword"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_build_refuses_a_missing_tree(tmp_path: Path) -> None:
    assert main(["--ecs", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out.json")]) == 2

"""Projected documents: every field a rule reads holds what it holds in the whole document."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness.eql import compile_query, parse_statement
from harness.eql.fields import field_values
from harness.eql.read_fields import read_fields
from harness.errors import UsageError
from harness.projection import RUNNER_FIELDS, Projected, read_projected
from harness.rules import load_rule
from harness.validation import run_validation
from harness.validation.expectations import load_expectations
from harness.validation.runner import whole

from bundled import APPCMD

ROOT = Path(__file__).resolve().parents[1]
RULES = [
    ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml",
    ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml",
]


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ('process where process.name : "a.exe"', {"event.category", "process.name"}),
        ("any where ?user.id != null", {"user.id"}),
        (
            "sequence by host.id with maxspan=1m [process where true] by process.entity_id "
            '[file where file.path : "x"] by process.parent.entity_id '
            'until [process where user.name == "y"] by user.id',
            {
                "@timestamp",
                "event.category",
                "host.id",
                "process.entity_id",
                "file.path",
                "process.parent.entity_id",
                "user.name",
                "user.id",
            },
        ),
        (
            "sample by host.id [process where process.pid > 1] [network where true]",
            {"@timestamp", "event.category", "host.id", "process.pid"},
        ),
        ("process where length(process.args) > 2 | head 5", {"@timestamp", "event.category", "process.args"}),
    ],
    ids=["query", "any", "sequence", "sample", "piped"],
)
def test_read_fields_lists_what_a_statement_reads(text: str, fields: set[str]) -> None:
    assert read_fields(parse_statement(text)) == fields


def test_read_fields_names_the_category_and_tiebreaker_fields_given() -> None:
    found = read_fields(
        parse_statement("sequence [process where true] [file where true]"),
        category_field="kind",
        timestamp_field="ts",
        tiebreaker_field="event.sequence",
    )
    assert found == {"kind", "ts", "event.sequence"}


def _write(path: Path, documents: list[dict[str, Any]]) -> Path:
    data = b"".join(orjson.dumps(d) + b"\n" for d in documents)
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


SPELLINGS = [
    {"process": {"name": "a.exe", "pid": 4, "args": ["a", "b"]}, "user": {"name": "u"}},
    {"process.name": "a.exe", "process": {"pe": {"original_file_name": "A.EXE", "company": "c"}}},
    {"process": {"pe.original_file_name": "A.EXE", "name": None, "parent": {"name": "p"}}},
    {"process": [{"name": "x", "pid": 1}, {"name": ["y", "z"]}, 3, None], "host": "scalar"},
    {"process": {"name": {"nested": "object"}, "args": [[1, 2.5], ["é", True]]}},
    {"process": {"name": 18446744073709551615, "args": -0.0}, "event": {"category": "process"}},
]
FIELDS = ("process.name", "process.args", "process.pe.original_file_name", "process.parent.name")


@pytest.mark.parametrize("document", SPELLINGS, ids=[f"doc{i}" for i in range(len(SPELLINGS))])
def test_every_spelling_of_a_field_is_kept(tmp_path: Path, document: dict[str, Any]) -> None:
    path = _write(tmp_path / "e.ndjson", [document])
    [projected] = read_projected(str(path), FIELDS)
    for name in FIELDS:
        assert field_values(projected, tuple(name.split("."))) == field_values(
            document, tuple(name.split("."))
        )
    assert "user" not in projected  # a field no rule reads is left behind
    assert projected.whole() == orjson.loads(orjson.dumps(document))


_SEGMENTS = st.sampled_from(["a", "b", "c", "a.b", "b.c", "a.b.c"])
_SCALARS = st.none() | st.booleans() | st.integers(-9, 9) | st.text(max_size=2)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_SEGMENTS, inner, max_size=3),
    max_leaves=8,
)
_KEPT = st.sets(st.sampled_from(["a", "a.b", "b.c", "a.b.c", "c"]), min_size=1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.dictionaries(_SEGMENTS, _VALUES, max_size=4), kept=_KEPT)
def test_a_projection_reads_as_the_whole_document_on_its_fields(
    document: dict[str, Any], kept: set[str]
) -> None:
    from harness.projection import _cut, _Trie

    projected = _cut(document, _Trie.of(kept))
    for name in kept:
        assert field_values(projected, tuple(name.split("."))) == field_values(
            document, tuple(name.split("."))
        )


def test_the_runner_fields_are_always_kept(tmp_path: Path) -> None:
    document = {
        "@timestamp": "2026-11-02T00:00:00Z",
        "host": {"name": "h", "ip": ["10.0.0.1"]},
        "data_stream.type": "logs",
        "data_stream": {"dataset": "d", "namespace": "n"},
        "labels": {"scenario": "s", "source": "x"},
        "message": "dropped",
    }
    [projected] = read_projected(str(_write(tmp_path / "e.ndjson", [document])), ())
    assert {"labels", "host.name", "@timestamp"} <= RUNNER_FIELDS
    assert projected == {k: v for k, v in document.items() if k != "message"} | {"host": {"name": "h"}}


def test_hits_and_array_items_come_back_whole(tmp_path: Path) -> None:
    hit = tmp_path / "hits.ndjson"
    hit.write_bytes(b'{"_index":"logs-x","_source":{"process":{"name":"a"},"user":{"name":"u"}}}\n')
    [projected] = read_projected(str(hit), ["process.name"])
    assert projected == {"process": {"name": "a"}, "_index": "logs-x"}
    assert projected.whole() == {"process": {"name": "a"}, "user": {"name": "u"}, "_index": "logs-x"}
    array = tmp_path / "a.json"
    array.write_bytes(b'[{"process": {"name": "a"}, "user": {"name": "u"}},\n {"user": {"name": "v"}}]')
    assert [p.whole() for p in read_projected(str(array), ["process.name"])] == orjson.loads(
        array.read_bytes()
    )


def test_a_gzip_line_comes_back_whole(tmp_path: Path) -> None:
    documents = [{"n": i, "process": {"name": f"p{i}.exe"}} for i in range(50)]
    found = list(read_projected(str(_write(tmp_path / "e.ndjson.gz", documents)), ["process.name"]))
    assert [dict(p) for p in found] == [{"process": d["process"]} for d in documents]
    assert found[37].whole() == documents[37]


def test_standard_input_cannot_be_read_again() -> None:
    with pytest.raises(UsageError, match="give a path"):
        next(read_projected("-", ["process.name"]))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("projected") / "mixed.ndjson"
    write_corpus(CorpusOptions("mixed", events=3_000, seed=9, catalogue=APPCMD), path)
    return path


@pytest.mark.parametrize("rule_path", RULES, ids=lambda p: p.stem)
def test_a_rule_judges_projected_documents_as_whole_ones(mixed: Path, rule_path: Path) -> None:
    rule = load_rule(rule_path)
    matcher = compile_query(rule.query, engine="compiled")
    expectations = load_expectations(rule_path.with_name(rule_path.stem + ".expect.toml"))
    full = [orjson.loads(line) for line in mixed.read_bytes().splitlines()]
    projected = list(read_projected(str(mixed), read_fields(parse_statement(rule.query))))
    assert all(isinstance(p, Projected) for p in projected)
    assert sum(len(orjson.dumps(p)) for p in projected) < sum(len(orjson.dumps(d)) for d in full) / 3
    on_full = run_validation(matcher, full, expectations, rule_name=rule.name)
    on_projected = run_validation(matcher, projected, expectations, rule_name=rule.name)
    assert on_full.alerts > 0 and on_full.violations is not None
    assert on_projected == on_full  # examples included: shown whole


def test_whole_copies_a_plain_document() -> None:
    document = {"a": {"b": 1}}
    copy = whole(document)
    assert copy == document and copy is not document

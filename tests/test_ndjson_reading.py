"""NDJSON's lean path: the same records, errors and validation results as the general reader gives."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from generators.corpus import write_corpus
from generators.profiles import CorpusOptions
from harness.app import validate
from harness.app.corpora import Corpus
from harness.errors import InputError
from harness.events import read_events
from harness.validation import ValidationResult

from bundled import APPCMD

ROOT = Path(__file__).resolve().parents[1]
RULES = [
    ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml",
    ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml",
]


def _read(tmp_path: Path, data: bytes, name: str = "e.ndjson") -> list[tuple[int, dict[str, object]]]:
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return [(record.line, record.event) for record in read_events([str(path)])]


def test_blank_lines_after_the_first_event_carry_none_and_keep_the_numbering(tmp_path: Path) -> None:
    data = b'\n{"a": 1}\n\n \t\r\n{"b": 2}\r\n\x0c\n'
    assert _read(tmp_path, data) == [(2, {"a": 1}), (5, {"b": 2})]


@pytest.mark.parametrize(
    ("data", "line", "column", "says"),
    [
        (b'{"a":1}\n{"a":1,"a":2}\n', 2, 8, "'a' appears twice"),  # as orjson would write it, bar the repeat
        (b'{"a":1}\n\n{"a": \n', 3, 1, "not valid JSON"),
        (b'{"a":1}\n[1]\n', 2, 1, "found list"),
        (b'{"a":1}\n{"_source": 3}\n', 2, 2, "_source that is"),
    ],
    ids=["repeated-key", "truncated", "not-an-object", "bad-hit"],
)
def test_a_bad_line_past_the_first_names_its_place(
    tmp_path: Path, data: bytes, line: int, column: int, says: str
) -> None:
    with pytest.raises(InputError) as caught:
        _read(tmp_path, data)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert says in caught.value.message


@pytest.mark.parametrize("name", ["e.ndjson", "e.ndjson.gz"])
def test_each_record_knows_where_its_line_starts(tmp_path: Path, name: str) -> None:
    data = b'{"a":1}\n\n  {"b": [1, 2]}\n{"c":"\xc3\xa9"}\n'
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    records = list(read_events([str(path)]))
    assert [r.offset for r in records] == [0, 9, 25]
    assert [data[r.offset :].split(b"\n")[0] for r in records if r.offset is not None] == [
        b'{"a":1}',
        b'  {"b": [1, 2]}',
        b'{"c":"\xc3\xa9"}',
    ]


def test_a_hit_line_is_still_unwrapped(tmp_path: Path) -> None:
    path = tmp_path / "hits.ndjson"
    path.write_bytes(b'{"a":1}\n{"_index":"logs-x","_id":"7","_source":{"b":2}}\n')
    records = list(read_events([str(path)]))
    assert [(r.event, r.index, r.id, r.raw) for r in records] == [
        ({"a": 1}, None, None, b'{"a":1}'),
        ({"b": 2}, "logs-x", "7", None),
    ]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Attacks (with their context events) among fleet background, in every source."""
    path = tmp_path_factory.mktemp("mixed") / "mixed.ndjson"
    write_corpus(CorpusOptions("mixed", events=3_000, seed=3, catalogue=APPCMD), path)
    return path


def _same(result: ValidationResult) -> ValidationResult:
    return replace(result, corpus="")  # the corpus's description names how it was given


@pytest.mark.parametrize("rule", RULES, ids=lambda p: p.stem)
def test_validating_the_file_gives_what_validating_its_documents_gives(mixed: Path, rule: Path) -> None:
    documents = [orjson.loads(line) for line in mixed.read_bytes().splitlines()]
    from_file = validate(rule, mixed, derived=False).result
    given = validate(rule, Corpus(documents=documents), derived=False).result
    assert from_file.alerts > 0 and from_file.cells
    assert _same(from_file) == _same(given)

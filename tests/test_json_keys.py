"""A document whose object repeats a key is refused, as Elasticsearch refuses it, and nothing else is."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import InputError
from harness.events import read_events
from harness.json_keys import duplicate_key


@pytest.mark.parametrize(
    ("raw", "key", "column"),
    [
        (b'{"process": {"name": "a", "name": "b"}}', "name", 27),
        (b'{"a": 1, "a": 1}', "a", 10),
        (b'{"x": [{"k": 1}, {"k": 2, "k": 3}]}', "k", 27),
        (b'{"a" : 1, "a": 2}', "a", 11),  # space before a colon: the slow path still finds it
        ('{"é": 1, "é": 2}'.encode(), "é", 10),
    ],
)
def test_a_repeated_key_is_named_with_its_second_place(raw: bytes, key: str, column: int) -> None:
    assert duplicate_key(raw, orjson.loads(raw)) == (key, column)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"process": {"name": "a"}, "host": {"name": "b"}, "user": {"name": "c"}}',
        b'{"command_line": "echo \\"a\\": b", "n": 1}',  # a '":' inside a string
        b'{"a" : 1, "b" : 2}',
        b'{"list": [{"k": 1}, {"k": 2}]}',
        b"{}",
    ],
)
def test_the_same_key_in_different_objects_is_not_a_repeat(raw: bytes) -> None:
    assert duplicate_key(raw, orjson.loads(raw)) is None


def test_a_corpus_line_with_a_repeated_key_stops_the_run_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "e.ndjson"
    path.write_bytes(b'{"a": 1}\n{"process": {"name": "a", "name": "b"}}\n')
    with pytest.raises(InputError) as caught:
        list(read_events([str(path)]))
    assert (caught.value.line, caught.value.column) == (2, 27)
    assert "'name' appears twice" in str(caught.value)


def test_match_skips_and_lists_it_with_skip_invalid(tmp_path: Path) -> None:
    path = tmp_path / "e.ndjson"
    path.write_bytes(b'{"process": {"name": "a", "name": "b"}}\n{"a": 1}\n')
    result = CliRunner().invoke(main, ["match", "--query", "any where true", "--skip-invalid", str(path)])
    assert result.exit_code == 0
    assert [json.loads(line) for line in result.stdout.splitlines()] == [{"a": 1}]
    assert "e.ndjson:1:27: the key 'name' appears twice" in result.stderr


def test_a_json_array_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_bytes(b'[{"a": 1},\n {"b": 1, "b": 2}]')
    with pytest.raises(InputError, match="'b' appears twice"):
        list(read_events([str(path)]))

"""A large NDJSON file judged in parts by forked workers: the same result as reading it whole.

The parts are whole lines (``line_ranges``), read and numbered as the whole file reads them
(``read_line_range``); a rule's results on consecutive parts combine into its result on the
whole (``combine``); ``validate`` on a file cut in parts equals ``validate`` reading it whole,
with exceptions and unlabelled alerts; a bad line in a later part is reported as a whole
reading reports it.
"""

from __future__ import annotations

import gzip
import itertools
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generators.catalogues import get_catalogue
from generators.corpus import iter_documents, write_corpus
from generators.profiles import CorpusOptions
from harness.app import split_rows, validate
from harness.app.setup import NO_EXCEPTIONS, prepare_rule
from harness.eql import compile_query
from harness.eql.required_values import required_values
from harness.errors import InputError
from harness.events import line_ranges, read_events, read_line_range
from harness.validation import ValidationResult, run_validation
from harness.validation.result_parts import combine
from harness.validation.runner import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"

MONITORING = """\
[[item]]
name = "Monitoring scripts"
description = "reads the app pool names, no password"

[[item.entry]]
field = "process.args"
type = "match"
value = "/text:name"
"""


def _records(records: Any) -> list[tuple[Any, ...]]:
    return [(r.event, r.path, r.line, r.raw, r.index, r.id, r.offset) for r in records]


@pytest.mark.parametrize("parts", [2, 3, 5, 8])
def test_the_parts_read_as_the_whole_file_reads(tmp_path: Path, parts: int) -> None:
    lines = [
        b'{"a": 1}\n',
        b"\n",
        b'{"b": "x"}\r\n',
        b"   \n",
        b'{"_index": "logs-x", "_id": "7", "_source": {"c": 2}}\n',
        *[orjson.dumps({"n": n, "pad": "y" * (n % 7)}) + b"\n" for n in range(40)],
        b'{"last": true}',  # no line break at the end
    ]
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"".join(lines))
    ranges = line_ranges(str(path), parts)
    assert ranges is not None and len(ranges) >= 2
    assert ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(ranges))
    read = [record for start, end in ranges for record in read_line_range(str(path), start, end)]
    assert _records(read) == _records(read_events([str(path)]))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("array.json", b"[" + b",".join(orjson.dumps({"n": n}) for n in range(50)) + b"]"),
        (
            "response.json",
            b'{"hits": {"hits": [\n' + b",\n".join(b'{"_source": {}}' for _ in range(50)) + b"\n]}}",
        ),
        ("one.ndjson", b'{"only": "line"}\n'),
    ],
)
def test_what_is_read_whole_is_not_cut(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert line_ranges(str(path), 4) is None


def test_gzip_and_standard_input_are_not_cut(tmp_path: Path) -> None:
    data = b"".join(orjson.dumps({"n": n}) + b"\n" for n in range(500))
    path = tmp_path / "events.ndjson.gz"
    path.write_bytes(gzip.compress(data, mtime=0))
    assert line_ranges(str(path), 2) is None
    assert line_ranges("-", 2) is None
    plain = tmp_path / "events.ndjson"
    plain.write_bytes(data)
    assert line_ranges(str(plain), 1) is None
    assert line_ranges(str(plain), 2) is not None


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    """Attacks with their context among background, plus unlabelled alerts past the examples kept."""
    options = CorpusOptions("mixed", 4_000, seed=5, attack_rate=4_000.0, catalogue=get_catalogue("appcmd"))
    labelled = list(iter_documents(options))
    attacks = [doc for doc in labelled if doc["labels"].get("intent") == "malicious"]
    unlabelled = [{key: value for key, value in doc.items() if key != "labels"} for doc in attacks]
    assert len(unlabelled) > EXAMPLES
    # Spread through the corpus, so that every cut splits the unlabelled examples.
    step = len(labelled) // len(unlabelled)
    for number, doc in enumerate(unlabelled):
        labelled.insert(number * (step + 1), doc)
    return labelled


def _order(result: ValidationResult) -> tuple[list[Any], list[Any]]:
    return list(result.cells), list(result.sources)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=4))
def test_results_of_consecutive_parts_combine_into_the_whole_result(
    documents: list[dict[str, Any]], cuts: list[int]
) -> None:
    setup = prepare_rule(V214)
    matcher = compile_query(setup.rule.query)
    points = [0, *sorted(min(cut, len(documents)) for cut in cuts), len(documents)]

    def run(docs: list[dict[str, Any]]) -> ValidationResult:
        return run_validation(matcher, docs, setup.expectations, rule_name="r", scope=setup.scope)

    whole = run(documents)
    parts = [run(documents[start:end]) for start, end in itertools.pairwise(points)]
    combined = combine(parts, like=whole)
    assert whole.unlabelled_alert_count > EXAMPLES and whole.alerts > 0
    assert combined == whole
    assert _order(combined) == _order(whole)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, documents: list[dict[str, Any]]) -> Path:
    path = tmp_path_factory.mktemp("split") / "mixed.ndjson"
    path.write_bytes(b"".join(orjson.dumps(doc) + b"\n" for doc in documents))
    return path


@pytest.fixture
def cut(monkeypatch: pytest.MonkeyPatch) -> list[ValidationResult | None]:
    """Every file is cut in three parts; what ``judge_in_parts`` gave, each time it was asked."""
    given: list[ValidationResult | None] = []
    judge = split_rows.judge_in_parts

    def spied(path: str, run: Any, *, parts: int | None = None) -> ValidationResult | None:
        given.append(judge(path, run, parts=3))
        return given[-1]

    monkeypatch.setattr(split_rows, "MIN_BYTES", 0)
    monkeypatch.setattr(split_rows, "judge_in_parts", spied)
    # Tests run earlier (Spark's gateway) leave threads of their own in this process, which keep
    # a real run from forking; the workers here touch none of their locks.
    monkeypatch.setattr(split_rows, "_can_fork", lambda: sys.platform == "linux")
    return given


def _whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split_rows, "MIN_BYTES", 1 << 62)


@pytest.mark.parametrize("rule", [V214, V220], ids=lambda p: p.stem)
@pytest.mark.parametrize("engine", ["compiled", "reference"])
def test_validate_in_parts_gives_the_whole_files_result(
    corpus: Path, cut: list[ValidationResult | None], monkeypatch: pytest.MonkeyPatch, rule: Path, engine: str
) -> None:
    parted = validate(rule, corpus, engine=engine, derived=False, exceptions=NO_EXCEPTIONS).result
    assert cut and cut[-1] is not None  # it was cut, and every part gave a result
    _whole(monkeypatch)
    whole = validate(rule, corpus, engine=engine, derived=False, exceptions=NO_EXCEPTIONS).result
    assert parted.alerts > 0 and parted.unlabelled_alert_count > EXAMPLES
    assert parted == whole
    assert _order(parted) == _order(whole)


def test_exceptions_count_alike_in_parts(
    corpus: Path, cut: list[ValidationResult | None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    exceptions = tmp_path / "monitoring.exceptions.toml"
    exceptions.write_text(MONITORING)
    parted = validate(V214, corpus, derived=False, exceptions=exceptions).result
    assert cut[-1] is not None
    _whole(monkeypatch)
    whole = validate(V214, corpus, derived=False, exceptions=exceptions).result
    removed = sum(cell.removed for cell in whole.cells.values())
    assert removed > 0
    assert parted == whole
    assert parted.exceptions is whole.exceptions or parted.exceptions == whole.exceptions


def test_a_bad_line_in_a_later_part_is_reported_as_reading_the_whole_file_reports_it(
    corpus: Path, cut: list[ValidationResult | None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lines = corpus.read_bytes().splitlines(keepends=True)
    bad = len(lines) - 10  # in the last of three parts
    lines[bad] = b'{"labels": {"scenario": "x"}, "broken": \n'
    path = tmp_path / "broken.ndjson"
    path.write_bytes(b"".join(lines))
    with pytest.raises(InputError) as parted:
        validate(V214, path, derived=False, exceptions=NO_EXCEPTIONS)
    assert cut == [None]  # a part failed: the file was read whole, and the error raised there
    _whole(monkeypatch)
    with pytest.raises(InputError) as whole:
        validate(V214, path, derived=False, exceptions=NO_EXCEPTIONS)
    assert str(parted.value) == str(whole.value)
    assert f":{bad + 1}:" in str(parted.value) or f"line {bad + 1}" in str(parted.value)


def test_a_small_file_is_read_whole(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(split_rows, "line_ranges", lambda path, parts: calls.append(parts))
    assert corpus.stat().st_size < split_rows.MIN_BYTES
    validate(V214, corpus, derived=False, exceptions=NO_EXCEPTIONS)
    assert calls == []


def test_a_labelling_is_read_once_only_when_it_reads_alike(tmp_path: Path) -> None:
    """A missing source reads "unknown", a null one "None": the labels read once per labelling must
    keep them apart, and a missing intent (benign) apart from a null one."""
    setup = prepare_rule(V214)
    matcher = compile_query(setup.rule.query)
    base = {"scenario": "s", "index": "logs-windows.sysmon_operational-default"}
    docs: list[dict[str, Any]] = [
        {"labels": {**base, "source": None, "intent": "benign"}},
        {"labels": {**base, "intent": "benign"}},
        {"labels": {**base, "source": "a", "intent": None}},
        {"labels": {**base, "source": "a"}},
        {"labels": {**base, "source": None, "intent": "benign"}},
    ]
    result = run_validation(matcher, docs, setup.expectations, rule_name="r", scope=setup.scope)
    assert {key: cell.events for key, cell in result.cells.items()} == {
        ("s", "None"): 2,
        ("s", "unknown"): 1,
        ("s", "a"): 1,  # the missing intent: benign, judged
    }
    assert result.other_technique_events == 1  # the null intent: "None", an attack of another catalogue


def test_the_compiled_matcher_asked_only_by_its_key_answers_as_the_reference(
    documents: list[dict[str, Any]],
) -> None:
    """The compiled engine asks only events holding a value the query requires (``keyed``); a value
    that is not a string in a key field is asked, as the reference would judge it."""
    query = prepare_rule(V220).rule.query
    compiled, reference = compile_query(query), compile_query(query, engine="reference")
    assert required_values(compiled.query) is not None
    first = documents[0]
    odd = [
        {**first, "process": {**first.get("process", {}), "args": [5, "list", "/text:*"]}},
        {**first, "process": {**first.get("process", {}), "name": 7, "args": ["LIST", "/TEXT:x"]}},
        {**first, "process": {**first.get("process", {}), "name": "APPCMD.EXE", "args": ["LIST", "/TEXT:x"]}},
    ]
    verdicts = [(compiled.matches(doc), reference.matches(doc)) for doc in [*documents, *odd]]
    assert all(mine == theirs for mine, theirs in verdicts)
    assert any(mine for mine, _ in verdicts)


def _same(result: ValidationResult) -> ValidationResult:
    return replace(result, corpus="")


def test_the_corpus_written_by_generate_is_cut_alike(
    tmp_path: Path, cut: list[ValidationResult | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "fleet.ndjson"
    write_corpus(CorpusOptions("fleet", 3_000, seed=9), path)
    parted = validate(V214, path, derived=False, exceptions=NO_EXCEPTIONS).result
    assert cut[-1] is not None
    _whole(monkeypatch)
    assert _same(parted) == _same(validate(V214, path, derived=False, exceptions=NO_EXCEPTIONS).result)


def test_a_process_running_threads_of_its_own_reads_the_file_whole() -> None:
    """A forked child holds only the forking thread: a lock another thread held stays held in it."""
    if sys.platform != "linux" or threading.active_count() > 1:
        assert not split_rows._can_fork()
        return
    assert split_rows._can_fork()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not split_rows._can_fork()
    finally:
        stop.set()
        other.join()
    assert split_rows._can_fork()


def test_a_worker_lost_reads_the_file_whole(
    corpus: Path, cut: list[ValidationResult | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    judge_part = split_rows._judge_part

    def dies_on_the_second(number: int) -> ValidationResult | None:
        if number == 1:
            os._exit(3)  # as a worker the kernel kills
        return judge_part(number)

    monkeypatch.setattr(split_rows, "_judge_part", dies_on_the_second)
    parted = validate(V214, corpus, derived=False, exceptions=NO_EXCEPTIONS).result
    assert cut == [None]
    _whole(monkeypatch)
    assert parted == validate(V214, corpus, derived=False, exceptions=NO_EXCEPTIONS).result

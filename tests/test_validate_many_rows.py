"""Many single-event rules judged in one pass over row documents: each rule's result as if run alone."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from generators.catalogues import get_catalogue
from harness import app
from harness.app import validate_many
from harness.app.derived import derived_suite
from harness.app.setup import prepare_rule
from harness.corpus import Placed, open_corpus
from harness.eql import parse_statement
from harness.eql.fields import Scalar
from harness.eql.getters import Getter, SharedReads, compile_getter
from harness.errors import EqlEvaluationError, HarnessError
from harness.rule_paths import expand_rule_paths
from harness.rules import load_rule
from harness.validation import ValidationResult, run_validation
from harness.validation.runner import EXAMPLES
from harness.validation.sequences import is_multi_event, run_sequence_validation

from shared_rules import ELASTIC_RULES

RULES = Path(__file__).resolve().parents[1] / "rules"


def _flat(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``doc`` with dotted keys, as some shippers write it: ``process.name`` instead of nesting."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _odd(doc: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Variants of a labelled attack that the runner counts apart, or not at all."""
    labels = doc["labels"]
    unlabelled = {k: v for k, v in copy.deepcopy(doc).items() if k != "labels"}
    variants = [
        unlabelled,
        {**copy.deepcopy(doc), "labels": {**labels, "role": "context"}},
        {**copy.deepcopy(doc), "labels": {**labels, "scenario": f"elsewhere-{n % 2}", "intent": "malicious"}},
        {**copy.deepcopy(doc), "labels": {"scenario": labels["scenario"]}},  # no source, intent or role
        {**copy.deepcopy(doc), "_index": "logs-unread.events-default"},  # an index no rule reads
        _flat(copy.deepcopy(doc)),  # labels.scenario as a dotted key: no labels to the runner
        {
            **{k: v for k, v in unlabelled.items() if k not in ("@timestamp", "host")},
            "host.name": f"flat-{n}",
        },
        # Another category (the pass tests it once for every query of a category), then both.
        {**copy.deepcopy(doc), "event": {**doc.get("event", {}), "category": "file"}},
        {**copy.deepcopy(doc), "event": {**doc.get("event", {}), "category": ["file", "process"]}},
    ]
    return variants


def _witnesses(paths: list[Path]) -> list[dict[str, Any]]:
    """A few derived witnesses and near misses of each rule, so that every rule alerts and stays silent."""
    found = []
    for path in paths:
        suite = derived_suite(prepare_rule(path))
        for case in suite.cases[:6]:
            found += [copy.deepcopy(r.document) for r in case.renderings[:3] if r.document is not None]
    return found


def _corpus() -> list[dict[str, Any]]:
    """A fleet with the catalogue's attacks mixed in, derived cases and odd documents spread through it."""
    documents = [
        dict(d) for d in open_corpus(profile="mixed", events=3000, seed=11, catalogue=get_catalogue("appcmd"))
    ]
    attacks = [d for d in documents if d.get("labels", {}).get("intent") == "malicious"]
    assert len(attacks) >= 10  # why: the odd documents are variants of alerting ones
    out: list[dict[str, Any]] = []
    step = len(documents) // len(attacks)
    for n, doc in enumerate(documents):
        out.append(doc)
        if n % step == 0:
            out.extend(_odd(attacks[(n // step) % len(attacks)], n))
    # Each derived document labelled (its case's scenario), unlabelled, and in an index no rule reads.
    for n, doc in enumerate(_witnesses(RULE_PATHS)):
        at = (n * 7919) % len(out)
        out[at:at] = [doc, *_odd(doc, n)[::3]]
    return out


def _rules(searched: bool) -> list[Path]:
    """The bundled and shared EQL rules that are searched (sequences, samples, pipes), or not."""
    found = []
    for path in [
        *expand_rule_paths([RULES]),
        *(expand_rule_paths([ELASTIC_RULES]) if ELASTIC_RULES.is_dir() else []),
    ]:
        try:
            rule = load_rule(path)
            if rule.language == "eql" and is_multi_event(parse_statement(rule.query)) == searched:
                found.append(path)
        except HarnessError:
            continue  # a rule the loader refuses is no rule of this comparison
    return found


RULE_PATHS = _rules(searched=False)
SEARCHED_PATHS = _rules(searched=True)


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    return _corpus()


@pytest.fixture(scope="module")
def many(corpus: list[dict[str, Any]]) -> dict[str, ValidationResult]:
    run = validate_many(RULE_PATHS, corpus, derived=False)
    assert not [r.error for r in run.runs if r.error is not None]
    (notice,) = run.notices
    pattern = rf"{len(RULE_PATHS)} rules evaluated in one pass over the corpus \(\d+\.\d\d s\)"
    assert re.fullmatch(pattern, notice)
    return {r.path: r.validation.result for r in run.runs if r.validation is not None}


def _shown(result: ValidationResult) -> dict[str, Any]:
    """Every field of the result, and the order of its cells and sources (reports list them so)."""
    fields = dict(vars(result))
    fields["cell order"] = list(result.cells)
    fields["source order"] = list(result.sources)
    return fields


@pytest.mark.parametrize("path", RULE_PATHS, ids=lambda p: p.name)
def test_each_rule_of_the_pass_is_judged_as_alone(
    many: dict[str, ValidationResult], corpus: list[dict[str, Any]], path: Path
) -> None:
    alone = app.validate(path, corpus, derived=False).result
    assert _shown(many[str(path)]) == _shown(alone)


def test_the_corpus_exercises_what_the_pass_keeps(many: dict[str, ValidationResult]) -> None:
    """The comparison above is not vacuous: examples, the cap, unread and odd documents all occur."""
    results = list(many.values())
    assert any(r.unlabelled_alert_count > EXAMPLES for r in results)
    assert any(c.example_alert and c.example_silent for r in results for c in r.cells.values())
    assert any(r.context_alerts for r in results) and any(r.other_technique_alerts for r in results)
    assert sum(r.alerts > 0 for r in results) > len(results) // 2  # the derived cases make most rules alert
    assert any(not s.read and s.events for r in results for s in r.sources.values())


def test_single_event_rules_are_not_run_row_by_row_each(
    monkeypatch: pytest.MonkeyPatch, corpus: list[dict[str, Any]]
) -> None:
    calls: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> ValidationResult:
        calls.append(kwargs["rule_name"])
        return run_validation(*args, **kwargs)

    def searched(*args: Any, **kwargs: Any) -> ValidationResult:
        calls.append(kwargs["rule_name"])
        return run_sequence_validation(*args, **kwargs)

    monkeypatch.setattr("harness.app.validation.run_validation", counted)
    monkeypatch.setattr("harness.app.validation.run_sequence_validation", searched)
    run = validate_many([RULES], corpus, derived=False)
    # why: every single-event rule came from the one pass, and the sequence was judged on its groups
    assert calls == []
    sequences = [
        r.path for r in run.runs if r.validation is not None and r.validation.result.sequences is not None
    ]
    assert sequences and run.notices[0].endswith(
        ", 1 of them searched (sequences, samples, pipes) and judged on its groups"
    )


@pytest.fixture(scope="module")
def chains(corpus: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The corpus with every searched rule's derived chains in it, whole, so that they find sequences."""
    out = list(corpus)
    for n, path in enumerate(SEARCHED_PATHS):
        for case in derived_suite(prepare_rule(path)).cases[:4]:
            for rendering in case.renderings[:2]:
                at = (n * 7919 + len(out) // 3) % len(out)
                out[at:at] = [copy.deepcopy(doc) for doc in rendering.events]
    return out


def test_the_pass_reads_a_field_many_rules_read_once_per_document(
    monkeypatch: pytest.MonkeyPatch, corpus: list[dict[str, Any]]
) -> None:
    reads: list[tuple[tuple[str, ...], int]] = []  # (path, document) of each walk of a document
    asked: dict[tuple[str, ...], int] = {}  # how many getters each path was asked for

    def counting(path: tuple[str, ...]) -> Getter:
        asked[path] = asked.get(path, 0) + 1
        getter = compile_getter(path)

        def read(event: Mapping[str, Any]) -> list[Scalar]:
            reads.append((path, id(event)))
            return getter(event)

        return read

    def shared() -> SharedReads:
        reads_once = SharedReads(compile=counting)
        handed = reads_once.getter

        def getter(path: tuple[str, ...]) -> Getter:
            asked[path] = asked.get(path, 0) + 1
            return handed(path)

        reads_once.getter = getter  # type: ignore[method-assign]
        return reads_once

    monkeypatch.setattr("harness.validation.row_scan.SharedReads", shared)
    run = validate_many(RULE_PATHS, corpus, derived=False)
    assert not [r.error for r in run.runs if r.error is not None]
    host_os = ("host", "os", "type")
    # why: most rules test host.os.type (the repository's own three without ../shared); each was
    # handed the one getter, which walked each document once for all of them
    assert asked[host_os] >= 3 and any(path == host_os for path, _ in reads)
    assert len(reads) == len(set(reads))


def test_each_searched_rule_is_judged_on_the_pass_as_alone(
    chains: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.validation.sequences import found_in

    searched_from: list[bool] = []  # for each search: whether the pass gave its stages' places

    def noted(searcher: Any, read: Any, matched: Any = None) -> Any:
        searched_from.append(matched is not None)
        return found_in(searcher, read, matched)

    monkeypatch.setattr("harness.validation.row_scan.found_in", noted)
    run = validate_many([*SEARCHED_PATHS, *RULE_PATHS[:3]], chains, derived=False)
    # why: every stage query was judged in the pass; no searched rule judged every event again
    assert searched_from == [True] * len(SEARCHED_PATHS)
    monkeypatch.setattr("harness.validation.row_scan.found_in", found_in)
    assert not [r.error for r in run.runs if r.error is not None]
    searched = [r for r in run.runs if r.validation is not None and r.validation.result.sequences is not None]
    # why: every searched rule was judged on the pass's groups, none ran alone
    assert len(searched) == len(SEARCHED_PATHS) and "ran alone" not in run.notices[0]
    assert f"{len(SEARCHED_PATHS)} of them searched" in run.notices[0]
    tallies = [r.validation.result.sequences for r in searched if r.validation is not None]
    assert any(tally is not None and tally.found for tally in tallies)  # why: the search finds some
    for ran in searched:
        alone = app.validate(ran.path, chains, derived=False).result
        assert ran.validation is not None
        # why: the pass's groups and the found events' places give what the runner counts alone
        assert _shown(ran.validation.result) == _shown(alone)


def test_the_pass_runs_in_the_engine_asked_for(corpus: list[dict[str, Any]]) -> None:
    paths = [p for p in RULE_PATHS if p.parent == RULES]
    run = validate_many(paths, corpus[:1500], engine="reference", derived=False)
    for rule in run.runs:
        assert rule.validation is not None and rule.validation.engine == "reference"
        alone = app.validate(rule.path, corpus[:1500], engine="reference", derived=False)
        assert _shown(rule.validation.result) == _shown(alone.result)


# -- a query whose evaluation fails ---------------------------------------------------------


def _rule(folder: Path, name: str, index: str, query: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'[rule]\nname = "{name}"\nlanguage = "eql"\ntype = "eql"\nindex = ["{index}"]\n'
        f"query = '''\n{query}\n'''\n"
    )
    return path


def _process(index: str, title: str) -> dict[str, Any]:
    return {"_index": index, "event": {"category": "process"}, "process": {"title": title}}


@pytest.fixture
def failing(tmp_path: Path) -> Iterator[tuple[list[Path], list[dict[str, Any]]]]:
    number = "process where number(process.title) == 1"
    rules = [
        _rule(tmp_path, "a", "logs-a-*", number),  # reads the document number() fails on
        _rule(tmp_path, "b", "logs-b-*", number),  # the same text, on an index without it
        _rule(tmp_path, "c", "logs-*", 'process where process.title == "x"'),
    ]
    yield rules, [_process("logs-b-x", "1"), _process("logs-a-x", "x"), _process("logs-b-x", "1")]


def test_an_evaluation_error_is_the_rule_s_as_alone(failing: tuple[list[Path], list[dict[str, Any]]]) -> None:
    rules, documents = failing
    run = validate_many(rules, documents, derived=False, catalogue=None)
    with pytest.raises(EqlEvaluationError) as alone:
        app.validate(rules[0], documents, derived=False)
    assert str(run.runs[0].error) == str(alone.value)
    assert str(alone.value).startswith("document 2: ")


def test_a_rule_sharing_a_failed_query_but_not_its_index_runs_alone(
    failing: tuple[list[Path], list[dict[str, Any]]],
) -> None:
    rules, documents = failing
    run = validate_many(rules, documents, derived=False, catalogue=None)
    b, c = (r.validation for r in run.runs[1:])
    assert b is not None and c is not None
    assert b.result.alerts == 2 and c.result.alerts == 1
    assert _shown(b.result) == _shown(app.validate(rules[1], documents, derived=False).result)
    assert run.notices[0].startswith("1 rules evaluated in one pass over the corpus (")
    assert run.notices[0].endswith(f"; ran alone: {rules[1]}")


def test_a_query_that_does_not_parse_is_its_rule_s_error(tmp_path: Path) -> None:
    broken = _rule(tmp_path, "broken", "logs-*", "process where (")
    fine = _rule(tmp_path, "fine", "logs-*", 'process where process.title == "1"')
    run = validate_many([broken, fine], [_process("logs-b-x", "1")], derived=False, catalogue=None)
    assert run.runs[0].error is not None and "broken.toml" not in run.notices[0]
    assert run.runs[1].validation is not None and run.runs[1].validation.result.alerts == 1
    (notice,) = run.notices
    assert re.fullmatch(r"1 rules evaluated in one pass over the corpus \(\d+\.\d\d s\)", notice)


def test_a_json_file_is_read_once_cut_to_the_fields_the_rules_read(
    corpus: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import orjson

    import harness.projection

    path = tmp_path / "corpus.ndjson"
    # A document with an index of its own is a search hit, as an export writes one.
    lines = [
        {"_index": doc["_index"], "_source": {k: v for k, v in doc.items() if k != "_index"}}
        if "_index" in doc
        else doc
        for doc in corpus
    ]
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    kept: list[int] = []
    projected = harness.projection.read_projected

    def counted(*args: Any, **kwargs: Any) -> Placed[harness.projection.Projected]:
        documents, places = projected(*args, **kwargs).listed()
        kept.extend(len(orjson.dumps(document)) for document in documents)
        return places.placed(documents)

    monkeypatch.setattr(harness.projection, "read_projected", counted)
    every = [*RULE_PATHS, *(p for p in expand_rule_paths([RULES]) if p not in RULE_PATHS)]
    run = validate_many(every, str(path), derived=False)
    assert len(kept) == len(corpus)  # why: one read of the file, for single-event rules and sequences
    assert sum(kept) < path.stat().st_size / 2  # what the rules read is a fraction of each document
    monkeypatch.setattr(harness.projection, "read_projected", projected)
    for ran in run.runs:
        assert ran.validation is not None, ran.error
        alone = app.validate(ran.path, str(path), derived=False).result
        # why: the cut documents give every verdict the whole ones give; examples are shown whole
        assert _shown(ran.validation.result) == _shown(alone)


def _event(index: str, category: str, at: int, host: str, name: str) -> dict[str, Any]:
    return {
        "_index": index,
        "@timestamp": f"2026-11-02T10:00:{at:02d}Z",
        "event": {"category": category},
        "host": {"id": host},
        "process": {"name": name, "title": name},
    }


def test_a_stage_two_rules_share_is_judged_once_and_each_keeps_its_own_indices(tmp_path: Path) -> None:
    stages = (
        'sequence by host.id [process where process.name : "a.exe"] [process where process.name : "b.exe"]'
    )
    rules = [
        _rule(tmp_path, "on_a", "logs-a-*", stages),
        _rule(tmp_path, "on_b", "logs-b-*", stages),
        _rule(tmp_path, "on_all", "logs-*", stages + ' until [process where process.name : "stop.exe"]'),
    ]
    documents = [
        _event("logs-a-x", "process", 1, "h1", "a.exe"),
        _event("logs-b-x", "process", 2, "h1", "b.exe"),  # completes h1 only for a rule reading both
        _event("logs-b-x", "process", 3, "h2", "a.exe"),
        _event("logs-b-x", "process", 4, "h2", "b.exe"),
        _event("logs-a-x", "process", 5, "h3", "a.exe"),
        _event("logs-a-x", "process", 6, "h3", "stop.exe"),
        _event("logs-a-x", "process", 7, "h3", "b.exe"),
    ]
    runs = {
        Path(ran.path).stem: ran
        for ran in validate_many(rules, documents, derived=False, catalogue=None).runs
    }
    found = []
    for rule in rules:
        ran = runs[rule.stem]
        assert ran.validation is not None, ran.error
        alone = app.validate(rule, documents, derived=False).result
        # why: a shared stage's places are the pass's for every rule holding it, cut to the
        # indices each rule reads; the until is a query of the pass too
        assert _shown(ran.validation.result) == _shown(alone)
        assert ran.validation.result.sequences is not None
        found.append(ran.validation.result.sequences.found)
    assert found == [1, 1, 2]  # h3; h2; h1 and h2 (h3 is cut by stop.exe)


def test_a_stage_that_fails_is_its_rule_s_error_and_searched_alone_for_the_others(tmp_path: Path) -> None:
    failing = "sequence [process where number(process.title) == 1] [process where true]"
    rules = [
        _rule(tmp_path, "reads_it", "logs-a-*", failing),  # reads the document number() fails on
        _rule(tmp_path, "does_not", "logs-b-*", failing),
    ]
    documents = [
        _event("logs-b-x", "process", 1, "h", "1"),
        _event("logs-a-x", "process", 2, "h", "x"),
        _event("logs-b-x", "process", 3, "h", "2"),
    ]
    runs = {
        Path(ran.path).stem: ran
        for ran in validate_many(rules, documents, derived=False, catalogue=None).runs
    }
    with pytest.raises(EqlEvaluationError) as alone:
        app.validate(rules[0], documents, derived=False)
    failed = runs["reads_it"].error
    assert failed is not None and str(failed) == str(alone.value)
    # why: a sequence is searched once every document is read; the error named the last one read
    assert str(alone.value).startswith("document 2: ")
    other = runs["does_not"].validation
    assert other is not None and other.result.sequences is not None
    assert _shown(other.result) == _shown(app.validate(rules[1], documents, derived=False).result)
    assert other.result.sequences.found == 1


def test_a_failed_search_of_a_file_names_the_line_it_failed_on(tmp_path: Path) -> None:
    import orjson

    rule = _rule(
        tmp_path,
        "fails",
        "logs-*",
        "sequence [process where number(process.title) == 1] [process where true]",
    )
    path = tmp_path / "corpus.ndjson"
    titles = ["1", "x", "2", "3"]
    path.write_bytes(
        b"".join(
            orjson.dumps(_hit(_event("logs-a-x", "process", n, "h", t))) + b"\n" for n, t in enumerate(titles)
        )
    )
    with pytest.raises(EqlEvaluationError, match=rf"^{re.escape(str(path))}:2: .*Unable to convert \[x\]"):
        app.validate(rule, str(path), derived=False)


def _hit(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as a search hit, as an export writes one."""
    return {"_index": doc["_index"], "_source": {k: v for k, v in doc.items() if k != "_index"}}


@pytest.mark.parametrize(
    "query",
    [
        "process where number(process.title) == 1",  # failed in the pass
        "sequence [process where number(process.title) == 1] [process where true]",  # in a search of it
    ],
)
def test_a_failure_in_a_many_rule_run_over_a_file_names_its_line_as_alone(tmp_path: Path, query: str) -> None:
    import orjson

    rules = [
        _rule(tmp_path, "fails", "logs-*", query),
        _rule(tmp_path, "passes", "logs-*", 'process where process.title == "x"'),
    ]
    path = tmp_path / "corpus.ndjson"
    lines = [orjson.dumps(_hit(_event("logs-a-x", "process", n, "h", t))) for n, t in enumerate("12x")]
    # A blank line first: the document at position 2 is on line 4, which is what an error must name.
    path.write_bytes(b"\n" + b"\n".join(lines) + b"\n")
    with pytest.raises(EqlEvaluationError) as alone:
        app.validate(rules[0], str(path), derived=False)
    assert str(alone.value).startswith(f"{path}:4: ")
    run = validate_many(rules, str(path), derived=False, catalogue=None)
    assert str(run.runs[0].error) == str(alone.value)
    assert run.runs[1].validation is not None

"""Differential tests: the compiled engine gives the reference evaluator's answer, always.

Random queries from a grammar that covers every operator and function, over a fixed
set of fields, against random events (scalars, arrays, arrays of arrays, missing
fields, nulls, dotted keys, case and non-ASCII variants).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.eql import compile_query
from harness.eql.fields import field_values
from harness.eql.getters import compile_getter
from harness.errors import EqlEvaluationError, HarnessError

from strategies import conditions

TEXT = st.sampled_from(
    [
        "list",
        "LIST",
        "LİST",
        "/text:*",
        "/TEXT:*",
        "appcmd.exe",
        "AppCmd.EXE",
        "é",
        "É",
        "a\\b",
        "",
        "x*y",
        "10.1.2.3",
        "2001:db8::1",
        "42",
        " padded ",
    ]
)
NUMBER = st.one_of(st.integers(-5, 100), st.sampled_from([0.5, -2.5, 1e3]))
LEAF = st.one_of(TEXT, NUMBER, st.booleans(), st.none())
VALUE = st.one_of(LEAF, st.lists(st.one_of(LEAF, st.lists(LEAF, max_size=2)), max_size=4))


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    process: dict[str, Any] = {}
    for key in ("name", "args", "pid", "ip"):
        if draw(st.booleans()):
            process[key] = draw(VALUE)
    event: dict[str, Any] = {
        "event": {"category": draw(st.sampled_from(["process", ["process", "x"], "file"]))}
    }
    shape = draw(st.sampled_from(["nested", "dotted", "both", "array-of-objects"]))
    if shape in ("nested", "both"):
        event["process"] = process
    if shape in ("dotted", "both"):
        for key, value in process.items():
            event[f"process.{key}"] = value if shape == "dotted" else draw(VALUE)
    if shape == "array-of-objects":
        event["process"] = [process, {"name": draw(TEXT)}]
    return event


def _outcome(matcher: Any, event: dict[str, Any]) -> object:
    try:
        return matcher.matches(event)
    except EqlEvaluationError:
        return "search fails"


@given(condition=conditions(), event=events(), category=st.sampled_from(["process", "any"]))
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_compiled_equals_reference(condition: str, event: dict[str, Any], category: str) -> None:
    text = f"{category} where {condition}"
    try:
        reference = compile_query(text)
    except HarnessError:
        return  # a query Elasticsearch rejects: both engines reject it the same way (same parser)
    compiled = compile_query(text, engine="compiled")
    assert _outcome(compiled, event) == _outcome(reference, event), text


@given(
    event=events(),
    path=st.sampled_from(
        [
            ("process", "name"),
            ("process", "args"),
            ("event", "category"),
            ("process", "pid"),
            ("process",),
            ("nope", "x"),
        ]
    ),
)
@settings(max_examples=800, deadline=None)
def test_generated_getters_equal_the_generic_walker(event: dict[str, Any], path: tuple[str, ...]) -> None:
    assert compile_getter(path)(event) == field_values(event, path)

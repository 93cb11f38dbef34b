"""Every bad query gets the right error class, at the right place, with a caret and a hint."""

from __future__ import annotations

import pytest

from harness.eql import compile_query, parse_query
from harness.errors import EqlError, EqlSemanticError, EqlSyntaxError, EqlUnsupportedError, HarnessError


@pytest.mark.parametrize(
    ("query", "error", "line", "column", "fragment"),
    [
        ('process where process.name = "x"', EqlSyntaxError, 1, 28, "use =="),
        ("process where process.name == 'x'", EqlSyntaxError, 1, 31, "double quotes"),
        ('process where process.name == "x', EqlSyntaxError, 1, 31, "unterminated string"),
        ('process where process.name : ?"C:x"', EqlSyntaxError, 1, 30, '"""..."""'),
        ('process where process.name == "\\q"', EqlSyntaxError, 1, 32, "unknown escape"),
        ("process where a == 1 AND b == 2", EqlSyntaxError, 1, 22, "lowercase"),
        ("process where", EqlSyntaxError, 1, 14, "end of query"),
        ("process a == 1", EqlSyntaxError, 1, 9, "expected 'where'"),
        ("process where (a == 1", EqlSyntaxError, 1, 22, "')'"),
        ("process where a == 1 b", EqlSyntaxError, 1, 22, "unexpected"),
        ('process where a in~ ("x") and a in ~ ("y")', EqlSyntaxError, 1, 36, "without a space"),
        ("process where a == 1e999", EqlSyntaxError, 1, 20, "out of range"),
        ("process where a == 12abc", EqlSyntaxError, 1, 20, "malformed number"),
        ("process where /* open", EqlSyntaxError, 1, 15, "unterminated comment"),
        ("sequence [process where true] [file where true]", EqlUnsupportedError, 1, 1, "sequences"),
        ("sample by host.id [process where true]", EqlUnsupportedError, 1, 1, "samples"),
        ("join [process where true] [file where true]", EqlUnsupportedError, 1, 1, "joins"),
        ("process where true | head 5", EqlUnsupportedError, 1, 20, "pipes"),
        ("process where descendant of [process where true]", EqlUnsupportedError, 1, 15, "descendant of"),
        ("process where child of [process where true]", EqlUnsupportedError, 1, 15, "child of"),
        ('process where process.args[0] == "x"', EqlUnsupportedError, 1, 27, "array indexes"),
        ("process where lenght(process.name) > 3", EqlSemanticError, 1, 15, "did you mean [length]"),
        ("process where length(process.name, 1) > 3", EqlSemanticError, 1, 15, "expects exactly 1"),
        ('process where between(process.name, "a") == "b"', EqlSemanticError, 1, 15, "3 to 4"),
        ("process where length~(process.name) > 3", EqlSemanticError, 1, 15, "no case-insensitive"),
        ("process where process.pid : 42", EqlSemanticError, 1, 29, "consider using [==]"),
        ('process where length(process.name) : "4"', EqlSemanticError, 1, 15, "consider using [==]"),
        ("process where process.pid == process.parent.pid", EqlSemanticError, 1, 30, "against fields"),
        (
            'process where process.name in ("x", process.parent.name)',
            EqlSemanticError,
            1,
            37,
            "against fields",
        ),
        ('process where between(process.name, 1, "b") == "x"', EqlSemanticError, 1, 37, "must be [string]"),
        ('process where cidrMatch(source.ip, "10.0.0.0/33")', EqlSemanticError, 1, 36, "invalid CIDR"),
        ("process where cidrMatch(source.ip, host.name)", EqlSemanticError, 1, 36, "must be a constant"),
        ('process where process.name regex "a[b"', EqlSemanticError, 1, 34, "invalid regular expression"),
        ('process where process.name regex "~a"', EqlUnsupportedError, 1, 34, "complement"),
        ('process where process.name regex "a&b"', EqlUnsupportedError, 1, 34, "intersection"),
        ('process where concat(process.name, "x")', EqlSemanticError, 1, 15, "needs to be boolean"),
        ('process where "a" + 1 == 2', EqlSemanticError, 1, 15, "must be [number]"),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else None,
)
def test_error_class_and_position(
    query: str, error: type[EqlError], line: int, column: int, fragment: str
) -> None:
    with pytest.raises(error) as caught:
        parse_query(query)
    assert type(caught.value) is error
    assert (caught.value.line, caught.value.column) == (line, column)
    assert fragment in str(caught.value)


def test_caret_is_drawn_under_the_problem() -> None:
    with pytest.raises(EqlSyntaxError) as caught:
        parse_query('process where\n  process.name = "x"')
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("syntax error at line 2, column 16")
    assert lines[1] == '    process.name = "x"'
    assert lines[2] == "  " + " " * 15 + "^"
    assert lines[3] == "hint: use == to compare (or : for a case-insensitive match)"


def test_caret_spans_the_whole_token() -> None:
    with pytest.raises(EqlSemanticError) as caught:
        parse_query("process where lenght(process.name) > 3")
    assert str(caught.value).splitlines()[2] == "  " + " " * 14 + "^" * len("lenght")


def test_unknown_field_with_a_mapping_suggests_the_optional_form() -> None:
    from harness.eql import ECS

    with pytest.raises(EqlSemanticError, match=r"Unknown column \[process.no_such\]") as caught:
        compile_query('process where process.no_such == "x"', mapping=ECS)
    assert "?process.no_such" in str(caught.value)
    assert compile_query('process where ?process.no_such == "x"', mapping=ECS).matches({}) is False


def test_constant_the_mapped_type_cannot_hold() -> None:
    from harness.eql import ECS

    with pytest.raises(EqlSemanticError, match="not a valid value for the long field"):
        compile_query('process where process.pid == "abc"', mapping=ECS)


def test_every_error_is_a_harness_error() -> None:
    for error in (EqlSyntaxError, EqlUnsupportedError, EqlSemanticError):
        assert issubclass(error, HarnessError)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("any where winlog.event_id in (4624)", "must be [keyword], found value [4624] type [integer]"),
        (
            'any where process.pid in (1, "two")',
            'third argument of [process.pid in (1, "two")] must be [long]',
        ),
        ('any where length(process.name) in ("x")', "must be [integer]"),
    ],
)
def test_in_list_values_must_match_the_subject_type(query: str, fragment: str) -> None:
    from harness.eql import ECS

    with pytest.raises(EqlSemanticError) as caught:
        parse_query(query, mapping=ECS)
    assert fragment in str(caught.value)


def test_reversed_regex_range_is_a_query_error() -> None:
    with pytest.raises(EqlSemanticError, match="invalid range"):
        parse_query('any where process.name regex "[z-a]md.exe"')

"""Windows command-line splitting (CommandLineToArgvW) and its inverse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generators.winargs import (
    join_command_line,
    quote_argument,
    split_command_line,
    split_elastic_pipeline,
    split_security_4688,
)


@pytest.mark.parametrize(
    ("command_line", "expected"),
    [
        ("", []),
        ("appcmd.exe", ["appcmd.exe"]),
        ("appcmd list apppool /text:*", ["appcmd", "list", "apppool", "/text:*"]),
        ("appcmd  list\t apppool   ", ["appcmd", "list", "apppool"]),
        ('"C:\\Program Files\\x.exe" a', ["C:\\Program Files\\x.exe", "a"]),
        ('"C:\\a b\\x.exe"rest', ["C:\\a b\\x.exe", "rest"]),
        ("C:\\Windows\\x.exe a\\\\b", ["C:\\Windows\\x.exe", "a\\\\b"]),
        ('x "a b" c', ["x", "a b", "c"]),
        ('x a\\"b', ["x", 'a"b']),
        ('x a\\\\"b c"', ["x", "a\\b c"]),
        ('x "a\\\\"', ["x", "a\\"]),
        ('x ""', ["x", ""]),
        ('x """"', ["x", '"']),
        ('x "a""b"', ["x", 'a"b']),  # a doubled quote inside quotes is a literal one
        ('x "a"""b"', ["x", 'a"b']),
        ('x /text:"processModel.password"', ["x", "/text:processModel.password"]),
        ('x "/text:*"', ["x", "/text:*"]),
        ('x" y', ['x"', "y"]),
    ],
)
def test_split(command_line: str, expected: list[str]) -> None:
    assert split_command_line(command_line) == expected


@pytest.mark.parametrize(
    ("argument", "quoted"),
    [
        ("list", "list"),
        ("", '""'),
        ("a b", '"a b"'),
        ('a"b', '"a\\"b"'),
        ("C:\\Program Files\\", '"C:\\Program Files\\\\"'),
        ('\\"', '"\\\\\\""'),
    ],
)
def test_quote(argument: str, quoted: str) -> None:
    assert quote_argument(argument) == quoted


def test_program_name_with_a_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot contain a quote"):
        join_command_line(['a"b', "x"])


programs = st.text(st.characters(exclude_characters='"\x00', exclude_categories=["Cs"]), max_size=20)
arguments = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20)
windowsy = st.text(st.sampled_from(list('ab \t"\\/:*')), max_size=12)


@given(programs, st.lists(st.one_of(arguments, windowsy), max_size=6))
@settings(max_examples=2000)
def test_split_inverts_join(program: str, rest: list[str]) -> None:
    args = [program, *rest]
    assert split_command_line(join_command_line(args)) == args


@given(st.text(st.sampled_from(list('ab \t"\\')), max_size=16))
@settings(max_examples=2000)
def test_split_then_join_then_split_is_stable(command_line: str) -> None:
    args = split_command_line(command_line)
    if args and '"' not in args[0]:
        assert split_command_line(join_command_line(args)) == args


# Worked from the painless scripts in Elastic's integrations (system/security standard.yml,
# windows/sysmon_operational default.yml).
PIPELINE_CASES = [
    (
        'appcmd "list" "apppool" "/text:*"',
        ["appcmd", '"list"', '"apppool"', '"/text:*"'],
        ["appcmd", "list", "apppool", "/text:*"],
    ),
    (
        '"C:\\Program Files\\x.exe" a b',
        ['"C:\\Program Files\\x.exe"', "a", "b"],
        ["C:\\Program Files\\x.exe", "a", "b"],
    ),
    ('x "a b" c', ["x", '"a b"', "c"], ["x", "a b", "c"]),
    ('x a\\"b', ["x", 'a\\"b'], ["x", 'a"b']),
    ('x "a""b"', ["x", '"a""b"'], ["x", 'a"b']),
    ('x ""', ["x", '""'], ["x", ""]),
    ('x "" y', ["x", '""', "y"], ["x", "", "y"]),
    ("x  y", ["x", "", "y"], ["x", "y"]),
    ("x\ty", ["x", "y"], ["x", "y"]),
    (" x", ["", "x"], ["x"]),
    ("x ", ["x", ""], ["x"]),
    ("", [], []),
    (" ", ["", ""], []),
    ('x "a b""c d"', ["x", '"a b""c d"'], ["x", 'a b"c', "d"]),
    ('x a\\\\"b c"', ["x", 'a\\\\"b c"'], ["x", "a\\b c"]),
    ("x \\\\server\\share\\ ", ["x", "\\\\server\\share\\", ""], ["x", "\\\\server\\share\\"]),
    ('x "C:\\dir\\\\" y', ["x", '"C:\\dir\\\\"', "y"], ["x", "C:\\dir\\", "y"]),
    ('x "C:\\dir\\" y', ["x", '"C:\\dir\\"', "y"], ["x", 'C:\\dir" y']),
    ("x\ny", ["x", "y"], ["x\ny"]),
    ("x\xa0y", ["x\xa0y"], ["x\xa0y"]),
    ('a"b c"d e', ['a"b c"d', "e"], ["ab cd", "e"]),
    (
        "appcmd   list    apppool",
        ["appcmd", "", "", "list", "", "", "", "apppool"],
        ["appcmd", "list", "apppool"],
    ),
]


@pytest.mark.parametrize(("command_line", "security", "sysmon"), PIPELINE_CASES)
def test_pipeline_splitters(command_line: str, security: list[str], sysmon: list[str]) -> None:
    assert split_security_4688(command_line) == security
    assert split_elastic_pipeline(command_line) == sysmon

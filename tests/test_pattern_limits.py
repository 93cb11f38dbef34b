"""No pattern can hang the harness: the inputs that made a backtracking matcher take minutes.

Each case runs in a child process with a 60-second timeout, so a regression fails the
test instead of hanging the suite. Only "finishes" is asserted: how fast is the
benchmarks' business (``tests/benchmarks/test_patterns.py``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

VALUE_SIZE = 100_000  # characters

# Each query is run on a value of `a`s, which it does not match (where backtracking
# explores every way to split the value), and on one of `ab`s.
PATHOLOGICAL = [
    'process.name : "' + "*a" * 12 + '*b"',
    'process.name : "' + "*a" * 40 + '*b"',
    'process.name like "' + "*a" * 40 + '*b"',
    'process.name like~ "' + "*?a" * 40 + '*b"',
    'endsWith~(process.name, "' + "a*" * 40 + 'b")',
    'stringContains(process.name, "' + "a*" * 40 + 'b")',
    'process.name regex "(a|aa)*b"',
    'process.name regex~ "((a*)*)*b"',
    'process.name regex "(a|b|ab)*c"',
    'process.name regex ".*a.*a.*a.*a.*a.*a.*a.*a.*a.*a.*b"',
    'process.name regex "(a+)+b"',
    'process.name regex "a{1,99}{1,100}b"',  # finite: longer values are judged unread
    'process.name regex "a{1,100}{1,100}b"',  # refused: past the harness's automaton limit
    'process.name regex "a{1,1000}{1,1000}b"',  # refused: past Lucene's automaton limit
    'concat(process.name, "") regex "(a|aa)*b"',  # the script path
    'concat(process.name, "") : "' + "*a" * 40 + '*b"',
]

_CHILD = """
import sys
from harness.errors import EqlUnsupportedError
from harness.eql import compile_query

query, size = sys.argv[1], int(sys.argv[2])
for unit in ("a", "ab"):
    event = {"process": {"name": unit * (size // len(unit))}}
    for engine in ("reference", "compiled"):
        try:
            matcher = compile_query("any where " + query, engine=engine)
        except EqlUnsupportedError:
            print("refused")
            sys.exit(0)
        matcher.matches(event)
print("finished")
"""


@pytest.mark.parametrize("query", PATHOLOGICAL)
def test_pattern_finishes_on_a_large_value(query: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, query, str(VALUE_SIZE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    refused = "{1,1000}{1,1000}" in query or "{1,100}{1,100}" in query
    assert done.stdout.strip() == ("refused" if refused else "finished")

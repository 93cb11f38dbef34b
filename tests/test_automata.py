"""The linear-time matchers against the backtracking translation they replaced, on small inputs.

``patterns.py`` and ``automata.py`` must give exactly the answers Python's ``re`` gave on
the old translations (kept here, and in ``lucene_to_python``, as oracles only): the same
code point semantics, ASCII-only folding and escapes. Inputs are kept small so the
oracle, which backtracks, stays fast.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, reject
from hypothesis import strategies as st

from harness.eql.automata import DETERMINIZE_WORK_LIMIT, AutomatonTooLargeError, Chars, Repeat, build
from harness.eql.lucene_regex import RegexError, compile_lucene_regex, lucene_to_python
from harness.eql.patterns import ascii_fold_char, eql_wildcard, exact, lucene_wildcard, prefix

# -- the oracles: the regular expressions the matchers used to be ---------------------


def _oracle_wildcard(pattern: str, insensitive: bool, lucene: bool) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if lucene and ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(ascii_fold_char(ch) if insensitive else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _oracle_literal(text: str, insensitive: bool, rest: str = "") -> re.Pattern[str]:
    body = "".join(ascii_fold_char(ch) if insensitive else re.escape(ch) for ch in text)
    return re.compile(body + rest, re.DOTALL)


# -- wildcards -----------------------------------------------------------------------

# ASCII letters in both cases, letters that fold outside ASCII, an astral code point
# (one `?`), the wildcard characters themselves and the escape.
_GLOB_CHARS = "aAbBéÉßİ🙂\\*?\n"
_TEXT_CHARS = "aAbBéÉßİSi🙂\\*?\n"

glob_patterns = st.text(alphabet=_GLOB_CHARS, max_size=10)
texts = st.text(alphabet=_TEXT_CHARS, max_size=12)


def _instance(pattern: str, draw: st.DrawFn) -> str:
    """A text the pattern is likely to match: each wildcard filled in, each letter in some case."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(draw(st.text(alphabet=_TEXT_CHARS, max_size=3)))
        elif ch == "?":
            out.append(draw(st.sampled_from(_TEXT_CHARS)))
        elif ch.isascii() and ch.isalpha():
            out.append(draw(st.sampled_from([ch.lower(), ch.upper()])))
        elif ch != "\\":
            out.append(ch)
    return "".join(out)


@st.composite
def glob_cases(draw: st.DrawFn) -> tuple[str, str]:
    pattern = draw(glob_patterns)
    text = draw(st.one_of(texts, st.just(_instance(pattern, draw))))
    return pattern, text


@given(glob_cases(), st.booleans(), st.booleans())
@example(("*a*a*a*b", "aaab"), False, False)
@example(("?", "🙂"), False, False)
@example(("a*\\", "A\\"), True, False)
@example(("\\*", "\\x"), False, False)
@example(("*\\A*", "xAx"), True, True)
@example(("*\\A*", "xax"), True, True)
@example(("*\\", "x\\"), False, True)
def test_wildcards_match_the_regexes_they_replaced(
    case: tuple[str, str], insensitive: bool, lucene: bool
) -> None:
    """``:``/``like`` patterns (``lucene`` False) and endsWith/stringContains ones (True)."""
    pattern, text = case
    expected = _oracle_wildcard(pattern, insensitive, lucene).fullmatch(text) is not None
    glob = lucene_wildcard(pattern, insensitive) if lucene else eql_wildcard(pattern, insensitive)
    assert glob.matches(text) is expected


@given(glob_cases(), st.booleans())
def test_exact_and_prefix_match_the_regexes_they_replaced(case: tuple[str, str], insensitive: bool) -> None:
    literal, text = case
    assert exact(literal, insensitive).matches(text) is (
        _oracle_literal(literal, insensitive).fullmatch(text) is not None
    )
    assert prefix(literal, insensitive).matches(text) is (
        _oracle_literal(literal, insensitive, ".*").fullmatch(text) is not None
    )


# -- Lucene regular expressions ------------------------------------------------------

# Enough of Lucene's syntax to build every construct the parser knows, and break it.
_REGEX_TOKENS = [
    *'aAbé🙂.*+?|()[]^-{},@#"<>\\~&012',
    "\\d",
    "\\W",
    "\\s",
    "[a-c]",
    "[^a]",
    "{1,2}",
    "{2}",
    "{0,}",
    '"ab"',
    "<1-12>",
    "<05-10>",
    "(a|aa)*",
]
regex_patterns = st.lists(st.sampled_from(_REGEX_TOKENS), max_size=8).map("".join)
# Mostly the pattern's own letters, so that matches are common.
regex_texts = st.one_of(st.text(alphabet="aAb", max_size=6), st.text(alphabet="aAbBé🙂019 \n_-", max_size=10))


@given(regex_patterns, regex_texts, st.booleans())
@example("(a|aa)*b", "aaaab", False)
@example("((a*)*)*b", "aab", False)
@example("@", "\n", False)
@example("<1-12>", "0012", False)
@example("<05-10>", "7", False)
@example("a{2,1}", "a", False)
@example('"aB"+', "AbaB", True)
@example("[a-c]", "B", True)
def test_automaton_matches_the_python_translation(pattern: str, text: str, insensitive: bool) -> None:
    try:
        automaton = compile_lucene_regex(pattern, insensitive)
    except RegexError:
        reject()
    expected = re.fullmatch(lucene_to_python(pattern, insensitive), text, re.DOTALL) is not None
    assert automaton.matches(text) is expected


@pytest.mark.parametrize(
    ("pattern", "refused"),
    [
        ("a{1,1000}{1,1000}b", True),
        (f"a{{{DETERMINIZE_WORK_LIMIT}}}", False),
        (f"a{{{DETERMINIZE_WORK_LIMIT + 1}}}", True),
        (f"a{{{DETERMINIZE_WORK_LIMIT + 1},}}", True),
        ('"abc"{1,5000}', True),
        ("a{1,1000}", False),
        ("a{1,100}{1,100}b", True),  # the harness's own bound on the whole NFA
    ],
)
def test_automaton_size_is_capped_before_it_is_built(pattern: str, refused: bool) -> None:
    if refused:
        with pytest.raises(RegexError, match="more than 10000 states") as caught:
            compile_lucene_regex(pattern, False)
        assert caught.value.unsupported
    else:
        assert compile_lucene_regex(pattern, False).matches("a" * 1000) is (pattern == "a{1,1000}")


def test_the_state_cache_starts_over_when_full() -> None:
    # Every distinct code point is a new cache entry; the answer stays the same.
    automaton = build(Repeat(Chars(((0, 0x10FFFF),)), 0, None, "*"))
    text = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 250_000))
    assert automaton.matches(text)


def test_too_large_error_names_the_limit() -> None:
    assert "determinize work limit 10000" in str(AutomatonTooLargeError(10_000, lucene=True))

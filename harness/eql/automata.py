"""Regular languages as automata, matched in time linear in the text.

A Lucene regular expression (``lucene_regex.py``) is parsed into the small tree below,
turned into a Thompson NFA (one state per character position, epsilon moves for the
operators) and simulated over a set of states: each character of the text is read
once, whatever the pattern, so ``(a|aa)*b`` or ``((a*)*)*b`` cannot take exponential
time the way a backtracking matcher does. The state sets met are cached as a lazily
built DFA (one dictionary lookup per character once warm), and the cache is dropped
when it grows past a bound, so memory stays bounded too.

Lucene refuses an automaton it would have to build too large
(``TooComplexToDeterminizeException``: Lucene 9's ``RegExp`` checks each counted
repeat against the determinize work limit, ``Operations.DEFAULT_DETERMINIZE_WORK_LIMIT``
= 10,000, and Elasticsearch fails the search). The harness makes the same check, and
bounds the whole NFA too, with :class:`AutomatonTooLargeError` before building anything,
so ``a{1,1000}{1,1000}b`` is an error at once instead of a million states.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DETERMINIZE_WORK_LIMIT",
    "MAX_NFA_POSITIONS",
    "AnyString",
    "Automaton",
    "AutomatonTooLargeError",
    "Chars",
    "Concat",
    "Empty",
    "Group",
    "Never",
    "Node",
    "Repeat",
    "Union",
    "build",
]

DETERMINIZE_WORK_LIMIT = 10_000  # Lucene's Operations.DEFAULT_DETERMINIZE_WORK_LIMIT
# The harness's own bound on the NFA it simulates: a character of the text costs at most
# a step per position (nested counted repeats come near it), so this bounds the time.
MAX_NFA_POSITIONS = 10_000
_MAX_DFA_STATES = 10_000  # cached state sets before the cache starts over
_MAX_DFA_EDGES = 200_000

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Chars:
    """One code point in ``ranges`` (sorted, merged, inclusive); no ranges is the empty language."""

    ranges: Ranges


@dataclass(frozen=True)
class Never:
    """The empty language (``#``, an inverted range, ``{n,m}`` with m < n)."""


@dataclass(frozen=True)
class Empty:
    """The empty string (``()``, the empty pattern)."""


@dataclass(frozen=True)
class AnyString:
    """``@``: any string."""


@dataclass(frozen=True)
class Concat:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Union:
    left: Node
    right: Node


@dataclass(frozen=True)
class Group:
    """Parentheses: no meaning of their own, kept so the tree prints back as it was written."""

    inner: Node


@dataclass(frozen=True)
class Repeat:
    """``?`` (0, 1), ``*`` (0, None), ``+`` (1, None) or ``{low,high}``; ``op`` is how it was written."""

    inner: Node
    low: int
    high: int | None
    op: str


Node = Chars | Never | Empty | AnyString | Concat | Union | Group | Repeat


class AutomatonTooLargeError(ValueError):
    """The pattern's automaton would pass Lucene's limit (``lucene``) or the harness's own."""

    def __init__(self, limit: int, *, lucene: bool) -> None:
        if lucene:
            message = (
                f"a counted repeat would make an automaton of more than {limit} states; "
                f"Elasticsearch refuses such a query (Lucene's TooComplexToDeterminizeException, "
                f"determinize work limit {limit})"
            )
        else:
            message = f"its automaton would have more than {limit} states, more than the harness simulates"
        super().__init__(message)
        self.lucene = lucene


def _check_counted_repeats(node: Node) -> None:
    """Lucene 9's check in ``RegExp.toAutomaton``: a ``{n,m}`` (``{n,}``) of an automaton of
    ``s`` states may make at most ``(s - 1) * m`` (``* n``) states, the work limit.

    Lucene counts the states of the minimized inner automaton; the harness counts its
    character positions, which is the same number for strings and classes and never less,
    so a pattern Lucene accepts may be refused, never the other way round.
    """
    match node:
        case Repeat(inner=inner, low=low, high=high, op="{}"):
            _check_counted_repeats(inner)
            if positions(inner) * (low if high is None else high) > DETERMINIZE_WORK_LIMIT:
                raise AutomatonTooLargeError(DETERMINIZE_WORK_LIMIT, lucene=True)
        case Repeat(inner=inner) | Group(inner=inner):
            _check_counted_repeats(inner)
        case Concat(parts=parts):
            for part in parts:
                _check_counted_repeats(part)
        case Union(left=left, right=right):
            _check_counted_repeats(left)
            _check_counted_repeats(right)


def positions(node: Node, limit: int = DETERMINIZE_WORK_LIMIT) -> int:
    """How many character positions the NFA of ``node`` has, counting no further than ``limit + 1``."""
    match node:
        case Chars() | AnyString():
            return 1
        case Never() | Empty():
            return 0
        case Concat(parts=parts):
            total = 0
            for part in parts:
                total += positions(part, limit)
                if total > limit:
                    return limit + 1
            return total
        case Union(left=left, right=right):
            return min(limit + 1, positions(left, limit) + positions(right, limit))
        case Group(inner=inner):
            return positions(inner, limit)
        case Repeat(inner=inner, low=low, high=high):
            copies = max(low, 1) if high is None else high if low <= high else 0
            return min(limit + 1, positions(inner, limit) * copies)
    raise TypeError(f"not a regular expression node: {node!r}")


def build(node: Node) -> Automaton:
    """The automaton of ``node``; raises :class:`AutomatonTooLargeError` before building a huge one."""
    _check_counted_repeats(node)
    if positions(node, MAX_NFA_POSITIONS) > MAX_NFA_POSITIONS:
        raise AutomatonTooLargeError(MAX_NFA_POSITIONS, lucene=False)
    nfa = _Nfa()
    start, end = nfa.fragment(node)
    return Automaton(nfa, start, end, _longest(node))


def _longest(node: Node) -> int | None:
    """The length of the longest string in the language, None if unbounded (or empty)."""
    match node:
        case Chars():
            return 1
        case Never() | Empty():
            return 0
        case AnyString():
            return None
        case Concat(parts=parts):
            total = 0
            for part in parts:
                longest = _longest(part)
                if longest is None:
                    return None
                total += longest
            return total
        case Union(left=left, right=right):
            sides = (_longest(left), _longest(right))
            return None if None in sides else max(s for s in sides if s is not None)
        case Group(inner=inner):
            return _longest(inner)
        case Repeat(inner=inner, high=high):
            longest = _longest(inner)
            return None if high is None or longest is None else longest * high
    raise TypeError(f"not a regular expression node: {node!r}")


class _Nfa:
    """Thompson's construction: ``moves[s]`` is a character move, ``eps[s]`` the epsilon moves."""

    def __init__(self) -> None:
        self.moves: list[tuple[Ranges, int] | None] = []
        self.eps: list[list[int]] = []

    def state(self) -> int:
        self.moves.append(None)
        self.eps.append([])
        return len(self.moves) - 1

    def fragment(self, node: Node) -> tuple[int, int]:
        """A (start, end) pair of new states accepting exactly the language of ``node``."""
        match node:
            case Chars(ranges=ranges):
                start, end = self.state(), self.state()
                if ranges:
                    self.moves[start] = (ranges, end)
                return start, end
            case Never():
                return self.state(), self.state()
            case Empty():
                state = self.state()
                return state, state
            case AnyString():
                return self.fragment(Repeat(Chars(((0, 0x10FFFF),)), 0, None, "*"))
            case Group(inner=inner):
                return self.fragment(inner)
            case Concat(parts=parts):
                start, end = self.fragment(Empty())
                for part in parts:
                    first, last = self.fragment(part)
                    self.eps[end].append(first)
                    end = last
                return start, end
            case Union(left=left, right=right):
                start, end = self.state(), self.state()
                for branch in (left, right):
                    first, last = self.fragment(branch)
                    self.eps[start].append(first)
                    self.eps[last].append(end)
                return start, end
            case Repeat(inner=inner, low=low, high=high):
                return self.repeat(inner, low, high)
        raise TypeError(f"not a regular expression node: {node!r}")

    def repeat(self, inner: Node, low: int, high: int | None) -> tuple[int, int]:
        if high is not None and high < low:
            return self.fragment(Never())
        start, end = self.fragment(Empty())
        for _ in range(low - 1 if high is None and low > 0 else low):
            first, last = self.fragment(inner)
            self.eps[end].append(first)
            end = last
        if high is None:  # the last copy loops: e{n,} is e^(n-1) e+, and e{0,} is e*
            first, last = self.fragment(inner)
            self.eps[end].append(first)
            self.eps[last].append(first)
            if low == 0:
                self.eps[end].append(last)
            return start, last
        # The optional copies: each may be skipped straight to the end.
        final = self.state()
        for _ in range(high - low):
            first, last = self.fragment(inner)
            self.eps[end] += [first, final]
            end = last
        self.eps[end].append(final)
        return start, final


class Automaton:
    """A whole-value matcher: :meth:`matches` reads each character of the text once."""

    def __init__(self, nfa: _Nfa, start: int, final: int, longest: int | None) -> None:
        self._longest = longest
        self._moves = nfa.moves
        self._eps = nfa.eps
        self._final = final
        self._start_set = self._closure([start])
        self._sets: list[frozenset[int]] = []
        self._ids: dict[frozenset[int], int] = {}
        self._trans: list[dict[str, int]] = []
        self._accepting: list[bool] = []
        self._edges = 0
        self._start = 0
        self._reset()

    def _reset(self) -> None:
        # Cleared in place: a running `matches` holds these lists.
        self._sets.clear()
        self._ids.clear()
        self._trans.clear()
        self._accepting.clear()
        self._edges = 0
        self._intern(frozenset())  # 0: dead, nothing can match any more
        self._start = self._intern(self._start_set)

    def _intern(self, states: frozenset[int]) -> int:
        known = self._ids.get(states)
        if known is not None:
            return known
        self._ids[states] = len(self._sets)
        self._sets.append(states)
        self._trans.append({})
        self._accepting.append(self._final in states)
        return len(self._sets) - 1

    def _closure(self, states: list[int]) -> frozenset[int]:
        """The states reachable by epsilon moves, keeping only those that read or accept."""
        seen = set(states)
        stack = list(states)
        while stack:
            for target in self._eps[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        final, moves = self._final, self._moves
        return frozenset(s for s in seen if moves[s] is not None or s == final)

    def _step(self, current: int, ch: str) -> int:
        code = ord(ch)
        targets = []
        for state in self._sets[current]:
            move = self._moves[state]
            if move is not None:
                ranges, target = move
                for lo, hi in ranges:
                    if lo <= code <= hi:
                        targets.append(target)
                        break
        following = self._closure(targets)
        if len(self._sets) >= _MAX_DFA_STATES or self._edges >= _MAX_DFA_EDGES:
            self._reset()
            return self._intern(following)  # not cached: `current` is gone
        nxt = self._intern(following)
        self._trans[current][ch] = nxt
        self._edges += 1
        return nxt

    def matches(self, text: str) -> bool:
        """Whether the whole of ``text`` is in the language."""
        if self._longest is not None and len(text) > self._longest:
            return False  # a finite language: no need to read a value longer than its words
        trans = self._trans
        state = self._start
        for ch in text:
            nxt = trans[state].get(ch)
            if nxt is None:
                nxt = self._step(state, ch)
            if nxt == 0:
                return False
            state = nxt
        return self._accepting[state]

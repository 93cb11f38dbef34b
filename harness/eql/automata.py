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
= 10,000, and Elasticsearch fails the search). The harness refuses an NFA of more than
that many character positions with :class:`AutomatonTooLargeError` before building it, so
``a{1,1000}{1,1000}b`` is an error at once instead of a million states.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_POSITIONS",
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

MAX_POSITIONS = 10_000  # Lucene's Operations.DEFAULT_DETERMINIZE_WORK_LIMIT
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
    """The pattern's automaton would have more than :data:`MAX_POSITIONS` character positions."""

    def __init__(self) -> None:
        super().__init__(
            f"its automaton would have more than {MAX_POSITIONS} states; Elasticsearch refuses "
            f"such a query (Lucene's TooComplexToDeterminizeException, determinize work limit "
            f"{MAX_POSITIONS})"
        )


def positions(node: Node, limit: int = MAX_POSITIONS) -> int:
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
    size = positions(node)
    if size > MAX_POSITIONS:
        raise AutomatonTooLargeError
    nfa = _Nfa()
    start, end = nfa.fragment(node)
    return Automaton(nfa, start, end)


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

    def __init__(self, nfa: _Nfa, start: int, final: int) -> None:
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

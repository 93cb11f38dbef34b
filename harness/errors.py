"""The harness's errors: one base class, subclasses that carry where and what to do."""

from __future__ import annotations

from typing import Any

__all__ = [
    "EqlError",
    "EqlEvaluationError",
    "EqlSemanticError",
    "EqlSyntaxError",
    "EqlUnsupportedError",
    "HarnessError",
    "IngestError",
    "InputError",
    "NoCatalogueError",
    "RuleLoadError",
    "UsageError",
]


class HarnessError(Exception):
    """Base of every error the harness raises on purpose; anything else is a bug."""


class EqlError(HarnessError):
    """An error in a query, located at a line and column of its source text.

    ``str()`` draws the offending line with a caret under the problem, the way a
    compiler does, so a rule author sees where to look without counting characters.
    """

    kind = "query error"

    def __init__(
        self,
        message: str,
        *,
        source: str,
        offset: int,
        width: int = 1,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.offset = max(0, min(offset, len(source)))
        self.width = max(1, width)
        self.hint = hint
        self.line, self.column = _line_and_column(source, self.offset)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = self.source.splitlines() or [""]
        text = lines[self.line - 1] if self.line - 1 < len(lines) else ""
        # Tabs would shift the caret; draw them as single spaces in both lines.
        shown = text.replace("\t", " ")
        caret = " " * (self.column - 1) + "^" * max(1, min(self.width, len(shown) - self.column + 1))
        parts = [
            f"{self.kind} at line {self.line}, column {self.column}: {self.message}",
            f"  {shown}",
            f"  {caret}",
        ]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class EqlSyntaxError(EqlError):
    """The query text is not valid EQL."""

    kind = "syntax error"


class EqlUnsupportedError(EqlError):
    """Valid EQL that the harness does not evaluate (sequences, samples, joins, pipes...)."""

    kind = "not supported"


class EqlSemanticError(EqlError):
    """Well-formed EQL that Elasticsearch would reject: unknown function, wrong types, ..."""

    kind = "query error"


class EqlEvaluationError(HarnessError):
    """An event on which Elasticsearch would fail the whole search (division by zero, overflow...).

    ``event``: the event it failed on, where a search over many events noted it (a sequence's
    stage fails after every event was read: the last one read is not where it failed).
    """

    event: Any = None


class RuleLoadError(HarnessError):
    """A rule file that cannot be read: names the file, the place and what to fix."""

    def __init__(
        self, path: str, message: str, *, line: int | None = None, column: int | None = None
    ) -> None:
        self.path = path
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class InputError(HarnessError):
    """Bad event input (a corpus or an events file): names file, line and column.

    ``skippable`` marks a bad line that a reader could count and pass over (``match
    --skip-invalid``), as opposed to a file that cannot be read on.
    """

    def __init__(
        self, path: str, line: int, message: str, *, column: int | None = None, skippable: bool = False
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.skippable = skippable
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.message}"


class IngestError(HarnessError):
    """A telemetry file that could not be read whole: names the file and where it broke.

    ``partial`` holds everything read from the file (and from earlier files), so a
    caller that accepts a damaged file loses nothing that could be read.
    """

    def __init__(self, path: str, message: str, *, partial: Any = None) -> None:
        self.path = path
        self.message = message
        self.partial = partial
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class UsageError(HarnessError):
    """A combination of inputs and options that cannot run; the message says what to change."""


class NoCatalogueError(HarnessError):
    """A generated corpus was asked for a rule that no scenario catalogue covers."""


def _line_and_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``source``."""
    before = source[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column

"""The harness's words, each defined once: ``click.Choice``, the readers and mypy read these.

A ``StrEnum`` member is its own string (``Intent.MALICIOUS == "malicious"``), so labels in
documents, TOML files and JSON reports compare with members directly; ``choices(E)``
gives the list a command-line option accepts.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DEFAULT_SEED",
    "MAX_DAYS",
    "MAX_EVENTS",
    "MAX_RATE",
    "MAX_SEED",
    "BackgroundScenario",
    "Engine",
    "Intent",
    "Profile",
    "Status",
    "Verdict",
    "choices",
]

# One seed for every command that generates a corpus; the README's figures are printed with it.
DEFAULT_SEED = 7

# What a generated corpus may ask for: finite work, and times that numpy's datetime64[ns] holds.
MAX_EVENTS = 1_000_000_000
MAX_SEED = 2**63 - 1
MAX_DAYS = 36_500
MAX_RATE = 1_000_000.0  # scenario runs per million events: one run per event at the most


class Intent(StrEnum):
    """What a labelled event is: an attack to catch, everyday activity, or an attack the rule cannot see."""

    MALICIOUS = "malicious"
    BENIGN = "benign"
    OUT_OF_SCOPE = "out-of-scope"


class Verdict(StrEnum):
    """What a rule should do on an event."""

    ALERT = "alert"
    SILENT = "silent"


class Status(StrEnum):
    """Whether an expectation is the rule's intent or a known departure from it, accepted with a reason."""

    EXPECTED = "expected"
    KNOWN_GAP = "known-gap"
    KNOWN_NOISE = "known-noise"


class Engine(StrEnum):
    """Who evaluates a rule: ``auto`` picks DuckDB for Parquet and the compiled engine otherwise."""

    AUTO = "auto"
    COMPILED = "compiled"
    REFERENCE = "reference"
    DUCKDB = "duckdb"
    SPARK = "spark"

    @property
    def is_sql(self) -> bool:
        return self in (Engine.DUCKDB, Engine.SPARK)


class Profile(StrEnum):
    """Generated corpora: every scenario in every source, a fleet's days, or a labelled mix."""

    SCENARIOS = "scenarios"
    FLEET = "fleet"
    MIXED = "mixed"


class BackgroundScenario(StrEnum):
    """Cells of benign events that are no scenario of the rule's own.

    ``FLEET`` is everyday fleet activity, the noise budget's denominator; ``OTHER`` pools the
    benign events of another catalogue's scenarios (another rule's administrators at work).
    """

    FLEET = "fleet-background"
    OTHER = "other-benign"


def choices(words: type[StrEnum], *, without: tuple[StrEnum, ...] = ()) -> list[str]:
    """The values of ``words`` a command-line option accepts, in definition order."""
    return [str(word) for word in words if word not in without]

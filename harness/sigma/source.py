"""A Sigma file read by pySigma, one rule per file, and the lines its errors are about.

pySigma gives a line for YAML errors only; for a bad modifier, condition or value it names
the thing in quotes ("Unknown modifier 'contians'", "Detection 'sel_x' not defined"), and
the line is the first of the file that holds it.
"""

from __future__ import annotations

import re
from typing import Any

from harness.errors import RuleLoadError

__all__ = ["detection_line", "line_of", "loaded_rule"]

_QUOTED = re.compile(r"'([^']+)'")


def loaded_rule(path: str, text: str) -> Any:
    """The one Sigma rule ``text`` holds, as pySigma reads it (a ``SigmaRule``)."""
    import yaml
    from sigma.collection import SigmaCollection
    from sigma.rule import SigmaRule

    try:
        collection = SigmaCollection.from_yaml(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise RuleLoadError(path, f"invalid YAML: {e.problem}", line=line, column=column) from e
    except yaml.YAMLError as e:
        raise RuleLoadError(path, f"invalid YAML: {e}") from e
    except Exception as e:  # pySigma's SigmaError (a ValueError): a bad modifier, date, tag, ...
        raise RuleLoadError(path, f"not a valid Sigma rule: {e}", line=line_of(text, str(e))) from e
    rules = collection.rules
    if len(rules) != 1 or not isinstance(rules[0], SigmaRule):
        kinds = ", ".join(type(rule).__name__ for rule in rules) or "nothing"
        raise RuleLoadError(
            path,
            f"a Sigma rule file must hold exactly one detection rule; this one holds {kinds} "
            "(correlation rules, filters and multi-document collections are not supported)",
        )
    return rules[0]


def line_of(text: str, message: str) -> int | None:
    """The first line of ``text`` holding a quoted name of ``message``, if any."""
    for name in _QUOTED.findall(message):
        for number, line in enumerate(text.splitlines(), 1):
            if name in line and not line.lstrip().startswith("#"):
                return number
    return None


def detection_line(text: str, name: str) -> int | None:
    """The line of the detection ``name:`` in the ``detection:`` block."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"detection\s*:", line):
            inside = True
        elif inside and line[:1] not in ("", " ", "\t", "#"):
            return None  # the next top-level key: the block has ended
        elif inside and re.match(rf"\s+{re.escape(name)}\s*:", line):
            return number
    return None

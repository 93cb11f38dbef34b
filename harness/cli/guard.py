"""What stands between the user and a traceback: standard streams, signals and the last word on errors.

The rule (issue 13): bad input gets one line saying where and what to do, exit 2; exit 1 only
means the check found a violation; an interrupted run exits 130 (SIGINT) or 143 (SIGTERM) with one
line and leaves no half-written file, since both arrive as exceptions that unwind through
``atomic_writer``'s clean-up. What is left is a bug of the harness: one line that says so, exit 3.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import click

from harness.errors import HarnessError

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "Terminated",
    "guarded_process",
    "run_guarded",
]

EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM, raised where the program is so that ``finally`` blocks (temporary files) run."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def guarded_process() -> Iterator[None]:
    """Closed standard streams made harmless, SIGTERM turned into :class:`Terminated`, for one run."""
    _occupy_closed_streams()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        yield
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _occupy_closed_streams() -> None:
    """Put ``/dev/null`` on any closed descriptor 0, 1 or 2, the wrong way round for 0 and 1.

    A closed descriptor would be handed to the next file opened (an output file would then receive
    whatever a library prints). Standard input opened write-only and standard output read-only fail
    on use with EBADF, as the closed descriptors would, which the run reports in one line; standard
    error goes to ``/dev/null``, since there is nowhere left to say anything.
    """
    wrong_way = ((0, os.O_WRONLY, "stdin"), (1, os.O_RDONLY, "stdout"), (2, os.O_WRONLY, "stderr"))
    for fd, flags, name in wrong_way:
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        opened = os.open(os.devnull, flags)
        if opened != fd:
            os.dup2(opened, fd)
            os.close(opened)
        mode = "r" if fd == 0 else "w"
        setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115 - lives as long as the process


def run_guarded(run: Callable[[], Any]) -> int:
    """``run()`` (a click command in non-standalone mode), its outcome as an exit code and one line."""
    try:
        try:
            outcome = run()
        finally:
            sys.stdout.flush()  # a full disk or a closed stdout shows here, not at interpreter exit
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        return _flushed(code)
    except HarnessError as error:
        return _say(f"error: {error}", EXIT_USAGE)
    except click.exceptions.Exit as exit_:
        return _flushed(exit_.exit_code)
    except click.UsageError as error:
        where = f" (see {error.ctx.command_path} --help)" if error.ctx is not None else ""
        return _say(f"error: {error.format_message()}{where}", error.exit_code)
    except click.ClickException as error:
        return _say(f"error: {error.format_message()}", error.exit_code)
    except (click.Abort, KeyboardInterrupt):
        return _say("interrupted: nothing half-written was left behind", EXIT_INTERRUPTED)
    except Terminated:
        return _say("terminated: nothing half-written was left behind", EXIT_TERMINATED)
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (| head): not an error
        return 0
    except OSError as error:
        return _say(f"error: {_describe_os_error(error)}", EXIT_USAGE)
    except Exception as error:
        return _say(
            f"internal error: {type(error).__name__}: {error} "
            "(a bug in the harness: please report it with the command line)",
            EXIT_INTERNAL,
        )
    return _flushed(outcome if isinstance(outcome, int) else 0)


def _flushed(code: int) -> int:
    """``code``, unless standard output cannot take what is still buffered (then exit 2)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as error:
        return _say(f"error: {_describe_os_error(error)}", EXIT_USAGE)
    return code


def _describe_os_error(error: OSError) -> str:
    reason = error.strerror or str(error)
    if error.filename is not None:
        return f"{error.filename}: {reason}"
    if error.errno == errno.EBADF:
        return f"{reason}: a standard stream is closed; give the command somewhere to read and write"
    return f"{reason} while writing the output; check the disk, or where standard output goes"


def _say(line: str, code: int) -> int:
    _silence_stdout_if_broken()
    with contextlib.suppress(OSError, ValueError):
        click.echo(line, err=True)
    return code


def _silence_stdout_if_broken() -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        _silence_stdout()


def _silence_stdout() -> None:
    """Point standard output at ``/dev/null`` so that the interpreter's last flush cannot fail."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)

"""Entry point of the ``qalign`` command: a click group whose errors become one line.

Exit codes: 0 success; 1 some files of a batch failed; 2 bad input or usage
(unknown format, unreadable file, bad language...); 3 a missing optional
dependency; 130 interrupted by Ctrl-C, 143 by SIGTERM (129 SIGHUP); 141 standard
output closed early (a broken pipe, ``qalign ... | head``).

SIGTERM and SIGHUP are handled like Ctrl-C: the command stops, removes its
temporary files, leaves no partial output and prints one line.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from typing import Any, NoReturn

import click

from qalign import __version__
from qalign.errors import QalignError


def one_line(message: str) -> str:
    """``message`` on one line: line breaks (and the blanks around them) become ``"; "``."""
    return re.sub(r"\s*[\r\n]+\s*", "; ", message.strip())


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) raised as an interruption, so that
    every ``finally`` and cleanup runs as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def _interrupted(exc: BaseException) -> int:
    signum = getattr(exc, "signum", signal.SIGINT)
    name = {signal.SIGTERM: "terminated (SIGTERM)", signal.SIGHUP: "hung up (SIGHUP)"}
    click.echo(f"qalign: {name.get(signum, 'interrupted')}", err=True)
    return 128 + int(signum)


BROKEN_PIPE = 141
"""Exit code when standard output is closed before everything was written (128 + SIGPIPE)."""


def _silence_stdout() -> None:
    """The reader of stdout went away (``qalign ... | head``): point stdout at the null
    device so that the final flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout without a descriptor (tests)
        pass


class _Group(click.Group):
    """Turns qalign errors into one line on stderr and an exit code; no tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QalignError as exc:
            click.echo(f"qalign: error: {one_line(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            ctx.exit(_interrupted(exc))
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(BROKEN_PIPE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qalign")
def cli() -> None:
    """Exact word timings from audio plus a transcript, written as TextGrid, SRT, CTM and more."""


def _register_commands() -> None:
    from qalign.cli import convert

    cli.add_command(convert.convert)
    cli.add_command(convert.list_formats)
    from qalign.cli import align, evaluate, transcribe

    cli.add_command(align.align)
    cli.add_command(transcribe.transcribe)
    cli.add_command(evaluate.evaluate)
    from qalign.cli import batch

    cli.add_command(batch.batch)
    from qalign.cli import split

    cli.add_command(split.split)


_register_commands()


def _handle_signals() -> dict[int, Any]:
    """Make SIGTERM and SIGHUP raise :class:`Interrupted` (only possible in the main
    thread); returns the handlers they had."""
    import threading

    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[signum] = signal.signal(signum, _raise_interrupted)
        except (OSError, ValueError):  # pragma: no cover - platform without it
            pass
    return previous


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (for tests and ``python -m``)."""
    previous = _handle_signals()
    try:
        return _run(argv)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(argv: list[str] | None) -> int:
    try:
        rc = cli.main(args=argv, prog_name="qalign", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        # One line, like every other error (click's own form adds the usage block).
        hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
        click.echo(f"qalign: error: {one_line(exc.format_message())}{hint}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE
    except KeyboardInterrupt as exc:  # a signal outside a command (while parsing)
        return _interrupted(exc)
    except click.exceptions.Abort as exc:
        cause = exc.__cause__
        return _interrupted(cause if isinstance(cause, KeyboardInterrupt) else KeyboardInterrupt())
    except SystemExit as exc:  # ctx.exit inside commands
        return int(exc.code or 0)
    return rc if isinstance(rc, int) else 0


def prepare_exit() -> None:
    """Ready the process to end: every object still alive is frozen out of the garbage
    collector (``gc.freeze``), so that a collection at shutdown does not walk them all
    again (with torch and a model loaded that walk took 0.45-0.7 s of a one-file run,
    ``benchmarks/bench_one_file.py``, the ``exit`` phase). Only for a process that is
    about to end: frozen objects are never collected.
    """
    import gc

    gc.freeze()


def end_process(code: int) -> NoReturn:
    """End the process with exit code ``code`` once the command is done, without the
    interpreter's teardown of its modules and objects.

    Standard output is flushed, the exit handlers run (``atexit``: logging, temporary
    files, worker pools, as at a normal exit), both standard streams and the C
    library's buffers are flushed; then
    ``os._exit`` ends the process. The teardown it skips (0.06-0.07 s of a one-file
    run with torch and a model loaded, measured) frees the interpreter's objects:
    no ``__del__`` method runs, no generator left open is closed (its ``finally``
    blocks do not run), and a ``NamedTemporaryFile(delete=True)`` not closed by
    then stays on disk. None of that carries a result of the CLI: every output
    file is written whole under a temporary name, closed and renamed before the
    command returns, and the memory goes back to the kernel with the process.
    While another non-daemon thread still runs, the usual ``sys.exit`` waits for
    it instead; so does a Python without ``atexit._run_exitfuncs`` (a private
    function). Standard output closed early (a reader that went away) gives
    :data:`BROKEN_PIPE` instead of 0.
    """
    import atexit
    import threading

    prepare_exit()
    main_thread = threading.main_thread()
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None or any(
        t is not main_thread and not t.daemon for t in threading.enumerate()
    ):
        sys.exit(code)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (BrokenPipeError, OSError, ValueError):
        _silence_stdout()
        code = code or BROKEN_PIPE
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # nothing more can be said on a closed stream
            pass
    _flush_c_streams()
    os._exit(code)


def _flush_c_streams() -> None:
    """Flush the C library's own output buffers (libraries that print through it, such
    as oneDNN's verbose mode), which ``exit`` flushes and ``os._exit`` does not."""
    import ctypes

    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library symbols to reach: nothing buffered there
        pass


def entry() -> None:
    """The ``qalign`` program (and ``python -m qalign``): :func:`main`, then the process
    ends with its code (:func:`end_process`)."""
    end_process(main())


if __name__ == "__main__":  # pragma: no cover
    entry()

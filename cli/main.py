"""Entry point of the ``qalign`` command: a click group whose errors become one line.

Exit codes: 0 success; 1 some files of a batch failed; 2 bad input or usage
(unknown format, unreadable file, bad language...); 3 a missing optional
dependency; 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from qalign import __version__
from qalign.errors import QalignError


class _Group(click.Group):
    """Turns qalign errors into one line on stderr and an exit code; no tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QalignError as exc:
            click.echo(f"qalign: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("qalign: interrupted", err=True)
            ctx.exit(130)


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


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (for tests and ``python -m``)."""
    try:
        rc = cli.main(args=argv, prog_name="qalign", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        # One line, like every other error (click's own form adds the usage block).
        hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
        click.echo(f"qalign: error: {exc.format_message()}{hint}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        # The reader of stdout went away (`qalign align ... | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except click.exceptions.Abort:
        click.echo("qalign: interrupted", err=True)
        return 130
    except SystemExit as exc:  # ctx.exit inside commands
        return int(exc.code or 0)
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

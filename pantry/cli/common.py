"""Small pieces every command module shares: consoles, JSON output, one-line errors."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.text import Text

# Documents go to stdout; progress, messages and errors to stderr.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C

# click < 8.2 prints the help of a bare group itself and exits 0; it has no such exception.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())

DEBUG_VARIABLE = "PANTRY_DEBUG"  # set to 1 to see the traceback behind an unexpected error


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def error_line(message: str) -> None:
    """``error: MESSAGE`` on stderr; the message is plain text (paths may hold ``[``)."""
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    error_line(message)
    raise click.exceptions.Exit(code)


def open_existing_catalog(catalog_path: str | None) -> Any:
    """Open the catalog for a command that only reads it (lint, render, recipe show).

    A missing SQLite file is an error, not a new empty catalog: otherwise every asset a recipe
    names would be reported missing instead of the real fault.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from pantry.catalog import Catalog
    from pantry.catalog.store import describe, resolve_url
    from pantry.errors import CatalogError

    url = resolve_url(catalog_path)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CatalogError(f"{url}: not a catalog path or database URL") from None
    on_disk = parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None,
        "",
        ":memory:",
    )
    if on_disk and not Path(parsed.database).is_file():
        raise CatalogError(
            f"{describe(url)}: no catalog here; run `pantry scan FOLDER` first (or pass --catalog)"
        )
    return Catalog.open(url)


class PantryGroup(click.Group):
    """The ``pantry`` group: every failure a user can meet ends in one line on stderr.

    click's own usage errors (a bad option value, a missing argument) are shortened to one
    line that points at ``--help``; Ctrl-C exits 130 with a short note; an unexpected
    exception (a bug) is one line naming it, with the traceback behind ``PANTRY_DEBUG=1``.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _NO_ARGS_IS_HELP as error:  # bare `pantry`: the help text, as click prints it
            error.show()
            sys.exit(error.exit_code)
        except click.UsageError as error:
            error_line(_usage_message(error))
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error_line(error.format_message())
            sys.exit(error.exit_code)
        except click.Abort:  # click's form of KeyboardInterrupt (Ctrl-C)
            error_line("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        except OSError as error:  # (click itself quiets a broken pipe: `pantry ls | head`)
            if error.filename is None:
                _unexpected(error)
            # A file the command had to write or read (disk full, permissions): the user's to fix.
            error_line(f"{error.filename}: {error.strerror or error}")
            sys.exit(EXIT_USAGE)
        except Exception as error:
            _unexpected(error)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _usage_message(error: click.UsageError) -> str:
    message = error.format_message()
    ctx = error.ctx
    if ctx is not None:
        message += f" (see `{ctx.command_path} --help`)"
    return message


def _unexpected(error: BaseException) -> NoReturn:
    if os.environ.get(DEBUG_VARIABLE):
        raise error
    where = ""
    if error.__traceback__ is not None:
        frame = error.__traceback__
        while frame.tb_next is not None:
            frame = frame.tb_next
        code = frame.tb_frame.f_code
        where = f" at {Path(code.co_filename).name}:{frame.tb_lineno}"
    error_line(
        f"unexpected {type(error).__name__}{where}: {error} "
        f"(a bug in pantry; {DEBUG_VARIABLE}=1 shows the traceback)"
    )
    sys.exit(EXIT_USAGE)


def human_size(size: int) -> str:
    """Bytes in binary units, as file managers show them."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"

"""Running pantry as a user would, and what every failure must look like."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from pantry.cli import main


def pantry(*args: object, stdin: str | None = None) -> Result:
    """Run ``pantry ARGS`` in this process (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, [str(a) for a in args], input=stdin)


def pantry_process(*args: object, env: dict[str, str] | None = None, **kwargs):
    """Run ``python -m pantry ARGS`` in a child process, as from a shell."""
    return subprocess.run(
        [sys.executable, "-m", "pantry", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kwargs,
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def assert_one_line_error(result, code: int, *mentions: object) -> str:
    """The convention: exit ``code``, exactly one line on stderr naming each of ``mentions``
    (the file, the ref...), and no traceback anywhere. Returns that line."""
    stdout = result.stdout
    stderr = result.stderr
    exit_code = getattr(result, "exit_code", getattr(result, "returncode", None))
    assert "Traceback" not in stdout + stderr, stdout + stderr
    assert exit_code == code, f"exit {exit_code}, wanted {code}; stderr: {stderr}"
    lines = error_lines(stderr)
    assert len(lines) == 1, f"wanted one error line, got: {lines}"
    for mention in mentions:
        text = str(mention)
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    return lines[0]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path

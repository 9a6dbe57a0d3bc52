"""Ctrl-C, broken pipes and bugs: still one line and a meaningful exit status, never a
traceback (``PANTRY_DEBUG=1`` brings the traceback back for whoever fixes the bug)."""

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pantry.catalog import Catalog
from tests.cli.support import assert_one_line_error, error_lines, pantry, pantry_process, write
from tests.fixtures.modelfiles import write_model

EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C


@pytest.fixture
def models(tmp_path):
    folder = tmp_path / "models"
    for i in range(6):
        write_model(folder, "kohya_sd15_lora", filename=f"lora_{i}.safetensors")
    return folder


def test_ctrl_c_mid_scan_exits_130_and_the_next_scan_finishes(models, tmp_path, monkeypatch):
    import pantry.catalog.scan as scan_module

    real_read = scan_module.read_entry
    calls = []

    def read_then_interrupt(found):
        calls.append(found)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_read(found)

    monkeypatch.setattr(scan_module, "read_entry", read_then_interrupt)
    catalog = tmp_path / "catalog.db"
    line = assert_one_line_error(pantry("scan", models, "--catalog", catalog), EXIT_INTERRUPTED)
    assert "interrupted" in line

    monkeypatch.setattr(scan_module, "read_entry", real_read)
    result = pantry("scan", "--catalog", catalog, "--json")  # the root was remembered
    assert result.exit_code == 0, result.output
    with Catalog.open(catalog) as opened:
        assert len(opened.find()) == 6


def test_ctrl_c_in_any_command_exits_130(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Catalog, "find", interrupted)
    line = assert_one_line_error(pantry("ls"), EXIT_INTERRUPTED)
    assert "interrupted" in line


def test_sigint_to_a_real_scan_exits_130_without_traceback(models, tmp_path):
    # A scan slowed down by a patched header reader, so the signal lands mid-scan.
    started = tmp_path / "started"
    script = textwrap.dedent(
        f"""
        import pathlib, time
        import pantry.catalog.scan as scan
        real = scan.read_entry
        def slow(found):
            pathlib.Path({str(started)!r}).touch()
            time.sleep(0.5)
            return real(found)
        scan.read_entry = slow
        from pantry.cli import main
        main(["scan", {str(models)!r}, "--catalog", {str(tmp_path / "c.db")!r}])
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert "Traceback" not in stdout + stderr, stderr
    assert child.returncode == EXIT_INTERRUPTED, stderr
    assert len(error_lines(stderr)) == 1 and "interrupted" in stderr


def test_a_bug_is_one_line_naming_the_exception(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Catalog, "find", broken)
    line = assert_one_line_error(pantry("ls"), 2, "ZeroDivisionError", "PANTRY_DEBUG=1")
    assert "division by zero" in line


def test_pantry_debug_shows_the_traceback_of_a_bug(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Catalog, "find", broken)
    monkeypatch.setenv("PANTRY_DEBUG", "1")
    result = pantry("ls")
    assert isinstance(result.exception, ZeroDivisionError)


def test_a_reader_that_leaves_early_is_not_an_error(monkeypatch):
    import pantry.cli.catalog_cmds as catalog_cmds

    def pipe_closed(data):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(catalog_cmds, "print_json", pipe_closed)
    result = pantry("ls", "--json")
    assert result.stderr == ""  # click's own handling: quiet, exit status 1


# -- as a shell runs it ---------------------------------------------------------------------


def test_process_bad_recipe(tmp_path):
    recipe = write(tmp_path / "r.toml", 'checkpoint = "x"\nsteps = [\n')
    result = pantry_process("recipe", "to-text", recipe, "--no-catalog")
    assert_one_line_error(result, 2, recipe)


def test_process_garbage_database_url(tmp_path):
    result = pantry_process("ls", env={"PANTRY_DATABASE_URL": "nosuchdb://h/db"})
    assert_one_line_error(result, 2, "nosuchdb://h/db")


def test_process_scan_of_missing_folder(tmp_path):
    result = pantry_process(
        "scan", tmp_path / "absent", env={"PANTRY_HOME": str(tmp_path / "home")}
    )
    assert_one_line_error(result, 2, tmp_path / "absent")


def test_process_usage_error_points_at_the_help_of_the_command(tmp_path):
    result = pantry_process("lint", "x.toml", "--fail-on", "fatal")
    assert "pantry lint --help" in assert_one_line_error(result, 2, "'fatal'")


def test_process_bare_pantry_prints_the_help():
    result = pantry_process()
    assert "Usage:" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_process_json_on_stdout_only(tmp_path):
    result = pantry_process("rules", "--json")
    assert result.returncode == 0 and result.stderr == ""
    assert json.loads(result.stdout)["rules"]


@pytest.mark.skipif(os.name != "posix", reason="pipes closed early as on a POSIX shell")
def test_process_output_piped_into_head(tmp_path):
    # `pantry rules --json | head -1` with a large enough output to fill the pipe first.
    child = subprocess.Popen(
        [sys.executable, "-m", "pantry", "rules", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child.stdout.readline()
    child.stdout.close()
    stderr = child.stderr.read()
    child.wait(timeout=60)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def _command_paths(group, prefix=()):
    import click

    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*prefix, name))


def _all_command_paths():
    from pantry.cli import main

    return list(_command_paths(main))


@pytest.mark.parametrize("path", _all_command_paths(), ids=" ".join)
def test_every_command_explains_itself(path):
    result = pantry(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout and len(result.stdout.splitlines()) > 3

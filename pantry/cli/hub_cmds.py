"""`pantry pull`: list a Hugging Face repository's model files, or pull them into the pantry."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from pantry.cli.common import EXIT_FINDINGS, err, fail, human_size, out, print_json
from pantry.errors import PantryError

PULL_EPILOG = """\b
Examples:
  pantry pull stabilityai/sdxl-vae                   list the model files
  pantry pull stabilityai/sdxl-vae 'sdxl_vae.safetensors'
  pantry pull owner/repo '*.safetensors' --revision v1.0 --to ~/models
  pantry pull hf://owner/repo/unet/model.safetensors@v1.0
  pantry pull --update                               re-check every pulled file

Exit codes: 0 done, 1 a download did not match the Hub's SHA-256 (removed, nothing
catalogued), 2 the pull could not be done (not found, gated, offline, network, disk).
"""


def register(group: click.Group) -> None:
    group.add_command(pull_command)


@click.command("pull", epilog=PULL_EPILOG)
@click.argument("repo_id", required=False, metavar="[REPO_ID | HF_REF]")
@click.argument("patterns", nargs=-1, metavar="[FILE_OR_PATTERN]...")
@click.option("--revision", help="Branch, tag or commit (default: main).")
@click.option(
    "--to",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Pantry root to pull into (default: the catalog's first root, else $PANTRY_HOME/models).",
)
@click.option("--catalog", "catalog_path", help="Catalog file or SQLAlchemy URL.")
@click.option("--update", is_flag=True, help="Re-check pulled files; fetch those that changed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
def pull_command(
    repo_id: str | None,
    patterns: tuple[str, ...],
    revision: str | None,
    root: Path | None,
    catalog_path: str | None,
    update: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Pull model files from the Hugging Face Hub into the pantry, verified and catalogued.

    Without FILE_OR_PATTERN, list REPO_ID's model files; with them (fnmatch patterns such as
    '*.safetensors'), download the matching files. An hf://owner/repo/path/file[@rev] ref
    pulls that one file (what recipes name). HF_TOKEN, HF_ENDPOINT and HF_HUB_OFFLINE
    are honoured. An interrupted download resumes where it stopped on the next run.
    """
    from pantry import hub

    is_ref = bool(repo_id) and hub.is_hf_ref(repo_id)
    _check_arguments(repo_id, patterns, revision, update, is_ref)
    try:
        if not (update or patterns or is_ref):
            commit, files = hub.list_model_files(repo_id, revision)
            _show_listing(repo_id, commit, files, as_json)
            return
        catalog = _open_catalog(catalog_path)
        with _QuietProgress() if quiet else _RichProgress() as progress:
            if update:
                results = hub.update_pulled(catalog, repo_id, root=root, progress=progress)
            elif is_ref:
                results = [hub.pull_ref_result(catalog, repo_id, root=root, progress=progress)]
            else:
                chosen = list(patterns)
                results = hub.pull(
                    catalog, repo_id, chosen, revision=revision, root=root, progress=progress
                )
    except hub.HashMismatchError as e:
        fail(str(e), EXIT_FINDINGS)
    except PantryError as e:
        fail(str(e))
    if update and not results and not as_json:
        err.print(f"nothing was pulled from {repo_id}" if repo_id else "nothing was pulled yet")
    _show_results(results, as_json)


def _check_arguments(
    repo_id: str | None, patterns: tuple[str, ...], revision: str | None, update: bool, is_ref: bool
) -> None:
    if not update and not repo_id:
        fail("give a repository id (owner/name), or --update to re-check pulled files")
    if update and (patterns or is_ref):
        fail("--update re-checks files already pulled: give at most a repository id")
    if is_ref and (patterns or revision):
        fail("an hf:// ref names one file and its revision (.../file@rev): give it alone")
    if repo_id and not is_ref:
        _check_repo_id(repo_id)


def _check_repo_id(repo_id: str) -> None:
    # Checked here, before any network or offline check, so a typo is reported as a typo.
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        fail(
            f"{repo_id!r} is not a Hugging Face repository id: expected owner/name "
            "(letters, digits, '-', '_', '.'), or an hf://owner/repo/path/file ref"
        )


def _open_catalog(path: str | None):
    from pantry.catalog import Catalog

    return Catalog.open(path)


def _show_listing(repo: str, commit: str, files: list, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "repo": repo,
                "commit": commit,
                "files": [
                    {"filename": f.filename, "size": f.size, "lfs_sha256": f.sha256} for f in files
                ],
            }
        )
        return
    if not files:
        err.print(f"{repo} has no model files at {commit[:12]}")
        return
    table = Table(title=f"{repo} @ {commit[:12]}", title_justify="left")
    table.add_column("file")
    table.add_column("size", justify="right")
    for f in files:
        table.add_row(f.filename, human_size(f.size))
    out.print(table)
    err.print(f"choose by name or pattern, e.g.: pantry pull {repo} '{_example_pattern(files)}'")


def _show_results(results: list, as_json: bool) -> None:
    if as_json:
        print_json([r.to_json() for r in results])
        return
    for r in results:
        where = f"{r.file.repo}/{r.file.filename}@{r.file.commit[:12]}"
        out.print(f"{r.status.replace('_', ' ')}: {r.asset.path} ({r.asset.kind}) from {where}")


def _example_pattern(files: list) -> str:
    suffix = Path(files[0].filename).suffix
    return f"*{suffix}" if len(files) > 1 else files[0].filename


class _RichProgress:
    """pantry.hub.DownloadProgress as a rich bar on stderr: bytes, speed, time left."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
        )
        self._task: TaskID | None = None
        self._shown = False

    def __enter__(self) -> _RichProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._shown:
            self._progress.stop()

    def start(self, name: str, total: int, completed: int) -> None:
        if not self._shown:  # only once something downloads: a no-op pull prints no bar
            self._progress.start()
            self._shown = True
        if self._task is None or self._progress.tasks[self._task].description != name:
            self._task = self._progress.add_task(name, total=total, completed=completed)
        else:
            self._progress.update(self._task, total=total, completed=completed)

    def advance(self, nbytes: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, nbytes)

    def stop(self) -> None:
        self._task = None


class _QuietProgress:
    def __enter__(self) -> _QuietProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def start(self, name: str, total: int, completed: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def stop(self) -> None:
        pass

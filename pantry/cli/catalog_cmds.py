"""Catalog commands: scan, ls, show, search, dupes, tag, set, hash, verify, prune, db.

Each command is a few lines over :class:`pantry.catalog.Catalog`. Documents (tables, JSON) go
to stdout; progress bars and messages to stderr. The ``--json`` schemas are documented in
``docs/catalog-json.md`` and built only by the ``*_json`` functions below.
Exit codes: 0 ok, 1 verify found changed or missing files, 2 usage or input errors.
"""

from __future__ import annotations

import functools
import os
import re
import time
from contextlib import contextmanager
from typing import Any

import click
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from pantry.catalog.asset import HASH_ADDNET, HASH_BLAKE3, HASH_LEGACY, HASH_SHA256, Asset
from pantry.cli.common import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    err,
    fail,
    human_size,
    out,
    print_json,
)
from pantry.cli.inspect_cmd import lora_summary
from pantry.errors import PantryError
from pantry.identify.taxonomy import Base, Kind

# A tag is one word (tables and `pantry search` split on spaces); +name adds, -name removes.
TAG_CHANGE = re.compile(r"[+-]?\w[\w.:/-]*")


def register(group: click.Group) -> None:
    for command in (scan, ls, show, search, dupes, tag, set_, hash_, verify, prune, db):
        group.add_command(command)


def catalog_option(func):
    """``--catalog PATH|URL`` on every command (default: PANTRY_DATABASE_URL, PANTRY_HOME,
    then the user data folder)."""
    return click.option(
        "--catalog",
        "catalog_path",
        metavar="PATH|URL",
        help="Catalog file or SQLAlchemy URL (default: $PANTRY_DATABASE_URL, "
        "$PANTRY_HOME/catalog.db, or the user data folder).",
    )(func)


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (stable schema).")(func)


def reports_errors(func):
    """Turn pantry's errors into a one-line message and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PantryError as error:
            fail(str(error))

    return wrapper


@contextmanager
def open_catalog(path: str | None, upgrade: bool = True):
    from pantry.catalog import Catalog  # SQLAlchemy only for commands that need it

    catalog = Catalog.open(path, upgrade=upgrade)
    try:
        yield catalog
    finally:
        catalog.close()


# -- scan -----------------------------------------------------------------------------------


@click.command()
@click.argument("roots", nargs=-1, type=click.Path(file_okay=True))
@catalog_option
@json_option
@reports_errors
def scan(roots: tuple[str, ...], catalog_path: str | None, as_json: bool) -> None:
    """Catalog the model files under ROOTS (remembered); no ROOTS rescans remembered ones.

    Unchanged files are not opened; moved or renamed files keep their tags, hashes and
    overrides; vanished files are marked missing (`pantry prune` removes them).
    """
    for root in roots:  # checked before the catalog remembers a mistyped folder
        if not os.path.exists(root):
            fail(f"{root}: no such file or folder")
    try:
        with open_catalog(catalog_path) as catalog, _progress(bytes_=False) as update:
            report = catalog.scan(list(roots) or None, progress=update)
    except KeyboardInterrupt:
        # Rows are written in batches, each its own transaction: what was read is kept.
        fail(
            "scan interrupted; the catalog keeps what was written, scan again to finish",
            EXIT_INTERRUPTED,
        )
    if as_json:
        print_json(report.to_json())
        return
    for message in report.errors:
        err.print(f"[yellow]warning:[/] {escape(message)}")
    counts = report.counts()
    summary = ", ".join(f"{n} {label}" for label, n in counts.items())
    out.print(f"{escape(', '.join(report.roots))}: {summary} ({report.seconds:.1f} s)")
    for old, new in report.moved:
        out.print(f"  [cyan]moved[/] {escape(old)} -> {escape(new)}")
    for path in report.missing:
        out.print(f"  [yellow]missing[/] {escape(path)}")
    for path, reason in report.unreadable:
        out.print(f"  [red]unreadable[/] {escape(path)}: {escape(reason)}")


# -- queries --------------------------------------------------------------------------------


@click.command()
@click.option(
    "--kind",
    type=click.Choice([k.value for k in Kind], case_sensitive=False),
    help="Only this kind (checkpoint, lora, vae, embedding, ...).",
)
@click.option(
    "--base",
    type=click.Choice([b.value for b in Base], case_sensitive=False),
    help="Only this base (sd1, sdxl, flux, ...).",
)
@click.option("--tag", help="Only assets with this tag.")
@click.option("--missing", is_flag=True, help="Only files that vanished from disk.")
@catalog_option
@json_option
@reports_errors
def ls(kind, base, tag, missing, catalog_path, as_json) -> None:
    """List catalogued assets (missing files only with --missing)."""
    with open_catalog(catalog_path) as catalog:
        assets = catalog.find(kind=kind, base=base, tag=tag, missing=missing)
    _print_assets(assets, as_json)


@click.command()
@click.argument("text")
@catalog_option
@json_option
@reports_errors
def search(text: str, catalog_path: str | None, as_json: bool) -> None:
    """Find assets whose name, title, trigger words or tags contain TEXT."""
    with open_catalog(catalog_path) as catalog:
        assets = catalog.find(text=text)
    _print_assets(assets, as_json)


@click.command()
@click.argument("ref")
@catalog_option
@json_option
@reports_errors
def show(ref: str, catalog_path: str | None, as_json: bool) -> None:
    """Everything the catalog knows about REF (name, path, hash prefix, #id)."""
    with open_catalog(catalog_path) as catalog:
        asset = catalog.resolve(ref)
    if as_json:
        print_json(asset_json(asset, full=True))
        return
    _print_asset_detail(asset)


@click.command()
@catalog_option
@json_option
@reports_errors
def dupes(catalog_path: str | None, as_json: bool) -> None:
    """Files with identical content (by locally computed SHA-256; links count once)."""
    with open_catalog(catalog_path) as catalog:
        groups, unhashed = catalog.dupes()
    if as_json:
        print_json(
            {
                "groups": [
                    {
                        "sha256": g.sha256,
                        "size": g.size,
                        "wasted_bytes": g.wasted,
                        "files": [[_brief(a) for a in links] for links in g.files],
                    }
                    for g in groups
                ],
                "unhashed": unhashed,
            }
        )
        return
    if not groups:
        out.print("no duplicates among hashed files")
    for g in groups:
        out.print(
            f"[bold]{g.sha256[:10]}[/]  {human_size(g.size)} x {len(g.files)}"
            f"  (wasted {human_size(g.wasted)})"
        )
        for links in g.files:
            first, *others = links
            out.print(f"  #{first.id} {escape(str(first.path))}")
            for other in others:
                out.print(f"      [dim]same file: #{other.id} {escape(str(other.path))}[/]")
    if unhashed:
        err.print(f"{unhashed} files have no hashes yet; `pantry hash --all` to include them")


# -- user edits -----------------------------------------------------------------------------


# "-photoreal" must reach CHANGES: no short options here (not even -h, which it contains).
@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]})
@click.argument("ref")
@click.argument("changes", nargs=-1, type=click.UNPROCESSED)
@catalog_option
@json_option
@reports_errors
def tag(ref: str, changes: tuple[str, ...], catalog_path: str | None, as_json: bool) -> None:
    """Add (+name or name) and remove (-name) tags: `pantry tag REF +anime -photoreal`."""
    for change in changes:
        if not TAG_CHANGE.fullmatch(change):
            fail(
                f"{change!r} is not a tag change: +name or -name, one word (letters, digits, _-.:/)"
            )
    add = [c.removeprefix("+") for c in changes if not c.startswith("-")]
    remove = [c[1:] for c in changes if c.startswith("-")]
    with open_catalog(catalog_path) as catalog:
        asset = catalog.set_tags(ref, add=add, remove=remove)
    if as_json:
        print_json(_brief(asset) | {"tags": asset.tags})
    else:
        out.print(
            f"#{asset.id} {escape(asset.name)}: {escape(' '.join(asset.tags) or '(no tags)')}"
        )


@click.command("set")
@click.argument("ref")
@click.argument("assignments", nargs=-1, required=True)
@catalog_option
@json_option
@reports_errors
def set_(ref: str, assignments: tuple[str, ...], catalog_path: str | None, as_json: bool):
    """Override identity fields: `pantry set REF base=sdxl lineage=pony style=anime`.

    Overrides win over detection and survive rescans; `field=` clears one.
    """
    changes: dict[str, str | None] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"expected FIELD=VALUE, got {item!r}")
        changes[key.strip()] = value
    with open_catalog(catalog_path) as catalog:
        asset = catalog.set_overrides(ref, changes)
    if as_json:
        print_json(_brief(asset) | {"overrides": asset.overrides})
    else:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(asset.overrides.items()))
        out.print(f"#{asset.id} {escape(asset.name)}: overrides {escape(shown or '(none)')}")


@click.command()
@catalog_option
@json_option
@reports_errors
def prune(catalog_path: str | None, as_json: bool) -> None:
    """Delete the rows of files marked missing (their tags and overrides go with them)."""
    with open_catalog(catalog_path) as catalog:
        removed = catalog.prune()
    if as_json:
        print_json({"removed": removed})
        return
    for path in removed:
        out.print(f"removed {escape(path)}")
    out.print(f"{len(removed)} missing rows removed")


# -- hashes ---------------------------------------------------------------------------------


@click.command("hash")
@click.argument("refs", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every present file in the catalog.")
@click.option("--blake3", is_flag=True, help="Also compute BLAKE3 (InvokeAI, Stability Matrix).")
@click.option("--force", is_flag=True, help="Re-hash even when the cached hashes are valid.")
@catalog_option
@json_option
@reports_errors
def hash_(refs, all_, blake3, force, catalog_path, as_json) -> None:
    """Compute SHA-256, AutoV2/V3, addnet, legacy (and BLAKE3) in one read per file."""
    if not refs and not all_:
        fail("give one or more REFs, or --all")
    with open_catalog(catalog_path) as catalog, _progress(bytes_=True) as update:
        report = catalog.hash(list(refs) or None, blake3=blake3, progress=update, force=force)
    if as_json:
        print_json(
            {
                "hashed": [_brief(a) | {"hashes": a.hashes} for a in report.hashed],
                "cached": [_brief(a) | {"hashes": a.hashes} for a in report.cached],
                "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
                "bytes": report.bytes,
                "seconds": round(report.seconds, 3),
            }
        )
        return
    for asset in report.hashed:
        out.print(f"{asset.hashes[HASH_SHA256][:10]}  {escape(str(asset.path))}")
    for path, reason in report.skipped:
        err.print(f"[yellow]skipped[/] {escape(path)}: {escape(reason)}")
    speed = report.bytes / report.seconds / 2**20 if report.seconds else 0
    err.print(
        f"{len(report.hashed)} hashed ({human_size(report.bytes)}, {speed:.0f} MiB/s), "
        f"{len(report.cached)} cached, {len(report.skipped)} skipped"
    )


@click.command()
@click.argument("refs", nargs=-1)
@catalog_option
@json_option
@reports_errors
def verify(refs, catalog_path, as_json) -> None:
    """Re-hash files and list those whose content changed since hashing (exit 1 if any)."""
    with open_catalog(catalog_path) as catalog, _progress(bytes_=True) as update:
        report = catalog.verify(list(refs) or None, progress=update)
    if as_json:
        print_json(
            {
                "ok": [_brief(a) for a in report.ok],
                "changed": [
                    _brief(a) | {"hashes": {k: {"stored": o, "now": n} for k, (o, n) in d.items()}}
                    for a, d in report.changed
                ],
                "missing": [_brief(a) for a in report.missing],
                "not_hashed": [_brief(a) for a in report.not_hashed],
            }
        )
    else:
        for asset, diff in report.changed:
            keys = ", ".join(sorted(diff))
            out.print(f"[red]changed[/] {escape(str(asset.path))} ({keys} differ)")
        for asset in report.missing:
            out.print(f"[yellow]missing[/] {escape(str(asset.path))}")
        err.print(
            f"{len(report.ok)} ok, {len(report.changed)} changed, {len(report.missing)} missing,"
            f" {len(report.not_hashed)} never hashed"
        )
    raise click.exceptions.Exit(EXIT_FINDINGS if report.problems else EXIT_OK)


# -- schema ---------------------------------------------------------------------------------


@click.group()
def db() -> None:
    """The catalog's database schema."""


@db.command("upgrade")
@catalog_option
@json_option
@reports_errors
def db_upgrade(catalog_path: str | None, as_json: bool) -> None:
    """Upgrade the catalog schema to the newest revision (opening any command does this too)."""
    with open_catalog(catalog_path, upgrade=False) as catalog:
        before, after = catalog.upgrade()
        where = catalog.location
    if as_json:
        print_json({"catalog": where, "before": before, "after": after})
        return
    if before == after:
        out.print(f"{escape(where)}: already at revision {after}")
    else:
        out.print(f"{escape(where)}: upgraded from {before or '(empty)'} to {after}")


@db.command("current")
@catalog_option
@json_option
@reports_errors
def db_current(catalog_path: str | None, as_json: bool) -> None:
    """Print the catalog's location, schema revision and the newest revision."""
    from pantry.catalog.store import head_revision

    with open_catalog(catalog_path, upgrade=False) as catalog:
        current, where = catalog.revision(), catalog.location
    head = head_revision()
    if as_json:
        print_json({"catalog": where, "current": current, "head": head})
    else:
        state = "up to date" if current == head else f"upgrade available to {head}"
        out.print(f"{escape(where)}: revision {current or '(empty)'} ({state})")


# -- JSON documents (schemas in docs/catalog-json.md) ----------------------------------------


def asset_json(asset: Asset, full: bool = False) -> dict[str, Any]:
    identity = asset.identity
    data = _brief(asset) | {
        "size": asset.size,
        "format": asset.format,
        "status": asset.status,
        "error": asset.error,
        "kind": identity.kind,
        "base": identity.base,
        "edition": identity.edition,
        "variant": identity.variant,
        "lineage": identity.lineage,
        "precision": identity.precision,
        "style": identity.style.value if identity.style else None,
        "hashes": dict(asset.hashes),
        "autov2": asset.autov2,
        "autov3": asset.hashes[HASH_ADDNET][:12] if HASH_ADDNET in asset.hashes else None,
        "tags": list(asset.tags),
        "overrides": dict(asset.overrides),
        "provenance": asset.provenance,
    }
    if full:
        data["identity"] = identity.to_json()
    return data


def _brief(asset: Asset) -> dict[str, Any]:
    return {"id": asset.id, "name": asset.name, "path": str(asset.path)}


# -- human output ---------------------------------------------------------------------------


def _print_assets(assets: list[Asset], as_json: bool) -> None:
    if as_json:
        print_json([asset_json(a) for a in assets])
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "name", "kind", "base", "variant/lineage", "precision", "size", "tags"):
        table.add_column(column, justify="right" if column in ("id", "size") else "left")
    for a in assets:
        i = a.identity
        name = escape(a.name)
        if a.status != "ok":
            name += f" [red]({a.status})[/]"
        extra = " ".join(
            value + ("*" if key in a.overrides else "")
            for key, value in (("variant", i.variant), ("lineage", i.lineage))
            if value
        )
        table.add_row(
            str(a.id),
            name,
            a.kind + ("*" if "kind" in a.overrides else ""),
            _shown_base(a),
            escape(extra),
            i.precision or "",
            human_size(a.size),
            escape(" ".join(a.tags)),
        )
    out.print(table)
    if any(a.overrides for a in assets):
        err.print("[dim]* set by you (pantry set)[/]")


def _shown_base(asset: Asset) -> str:
    """The base, or the bases it is narrowed to ("sd1|sdxl" for a 4-channel VAE)."""
    if "base" in asset.overrides:
        return asset.base + "*"
    candidates = asset.identity.base_candidates
    if asset.base == "unknown" and candidates:
        return "|".join(candidates)
    return asset.base


def _print_asset_detail(asset: Asset) -> None:
    i = asset.identity
    table = Table(box=None, show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # hashes are shown whole, folded if need be

    def row(label: str, value: Any, key: str | None = None) -> None:
        if value in (None, "", [], {}):
            return
        text = escape(str(value))
        if key and key in asset.overrides:
            text += " [magenta](override)[/]"
        table.add_row(label, text)

    row("id", f"#{asset.id}")
    row("name", asset.name)
    row("path", asset.path)
    row("status", asset.status + (f": {asset.error}" if asset.error else ""))
    row("format", asset.format)
    row("size", f"{human_size(asset.size)} ({asset.size} bytes)")
    row("kind", i.kind, "kind")
    row("base", i.base, "base")
    row("edition", i.edition, "edition")
    row("variant", i.variant, "variant")
    row("lineage", i.lineage, "lineage")
    row("style", i.style.value if i.style else None, "style")
    row("precision", i.precision)
    row("confidence", i.confidence)
    if "unknown" in (i.kind, i.base) and asset.status == "ok":
        row("why unknown", i.reason)
    if i.unsafe:
        row("UNSAFE", "pickle imports " + ", ".join(i.unsafe_globals))
    row("holds", ", ".join(i.components.get("present", [])))
    row("lacks", ", ".join(i.components.get("missing", [])))
    if i.params:
        row("parameters", f"{i.params / 1e6:.0f} M")
    if i.lora:
        row("lora", lora_summary(i.lora.format, i.lora.rank, i.lora.alpha, i.lora.module_count))
    row("title", i.metadata.get("title"))
    triggers = i.metadata.get("trigger_words")
    row("trigger words", ", ".join(map(str, triggers)) if isinstance(triggers, list) else triggers)
    h = asset.hashes
    if HASH_SHA256 in h:
        row("sha256", h[HASH_SHA256])
        row("AutoV2", h[HASH_SHA256][:10])
    if HASH_ADDNET in h:
        row("addnet", h[HASH_ADDNET])
        row("AutoV3", h[HASH_ADDNET][:12])
    row("legacy (AutoV1)", h.get(HASH_LEGACY))
    row("blake3", h.get(HASH_BLAKE3))
    if not h:
        row("hashes", "not computed (pantry hash REF)")
    row("tags", " ".join(asset.tags))
    row("provenance", _provenance_text(asset.provenance))
    for problem in i.errors + i.warnings:
        row("warning", problem)
    out.print(table)


def _provenance_text(provenance: dict | None) -> str:
    if not provenance:
        return "local"
    return ", ".join(f"{k}={v}" for k, v in provenance.items())


@contextmanager
def _progress(bytes_: bool):
    """A rich progress bar on stderr; yields the ``progress(stage, done, total)`` callback.

    Refreshed from the callback rather than by rich's refresh thread: a scan forks its header
    readers only when the process has no other threads.
    """
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if bytes_:
        columns += [DownloadColumn(binary_units=True), TransferSpeedColumn()]
    else:
        columns += [MofNCompleteColumn()]
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, auto_refresh=False) as bar:
        tasks: dict[str, Any] = {}
        last_refresh = 0.0

        def update(stage: str, done: int, total: int | None) -> None:
            nonlocal last_refresh
            if stage not in tasks:
                label = {"walk": "listing", "read": "reading headers", "hash": "hashing"}
                tasks[stage] = bar.add_task(label.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)
            now = time.monotonic()
            if now - last_refresh >= 0.1 or done == total:
                last_refresh = now
                bar.refresh()

        yield update

"""`pantry inspect PATH...`: identify model files from their headers, no catalog needed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from pantry.cli.common import EXIT_OK, EXIT_USAGE, err, error_line, out, print_json
from pantry.errors import UnreadableFileError
from pantry.formats import (
    MODEL_EXTENSIONS,
    is_diffusers_folder,
    read_header,
    sharded_component_files,
)
from pantry.hashing import compute_hashes
from pantry.identify import identify
from pantry.identify.identity import Identity


def register(group: click.Group) -> None:
    group.add_command(inspect_command)


@click.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per asset.")
@click.option("--explain", is_flag=True, help="Show the evidence behind every answer.")
@click.option(
    "--hash",
    "with_hashes",
    is_flag=True,
    help="Also hash each file (one full read) to recognise known files and show their hashes.",
)
def inspect_command(
    paths: tuple[Path, ...], as_json: bool, explain: bool, with_hashes: bool
) -> None:
    """Identify model files (kind, base, variant, precision, LoRA details) from headers only.

    A folder is expanded into the model files below it; a diffusers folder (with
    model_index.json) is one asset. Exit code 2 when any file could not be read.
    """
    reports: list[dict[str, Any]] = []
    expanded, empty_folders = _expand(paths)
    for folder in empty_folders:
        error_line(f"{folder}: no model files in this folder")
    failed = bool(empty_folders)
    for path in expanded:
        report = inspect_path(path, with_hashes)
        if report["errors"] and report["kind"] == "unknown" and report.get("unreadable"):
            failed = True
            error_line(report["errors"][0])
        reports.append(report)
        if not as_json:
            _print_report(report, explain)
    if as_json:
        print_json(reports)
    raise click.exceptions.Exit(EXIT_USAGE if failed else EXIT_OK)


def inspect_path(path: Path, with_hashes: bool = False) -> dict[str, Any]:
    """Read and identify one asset; an unreadable file becomes a report with its reason."""
    try:
        header = read_header(path)
    except UnreadableFileError as exc:
        identity = Identity(errors=[str(exc)], reason="unreadable")
        return _report(path, identity, None, unreadable=True)
    hashes = None
    if with_hashes and header.format != "diffusers":
        try:
            hashes = compute_hashes(path)
        except OSError as exc:
            identity = Identity(errors=[f"{path}: {exc.strerror or exc}"], reason="unreadable")
            return _report(path, identity, header, unreadable=True)
    report = _report(path, identify(header, hashes), header)
    if hashes is not None:
        report["hashes"] = hashes
    return report


def _report(path: Path, identity: Identity, header, unreadable: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"path": str(path)}
    data.update(identity.to_json())
    data["format"] = header.format if header else identity.format
    data["file_size"] = header.file_size if header else _size_or_none(path)
    data["tensor_count"] = len(header.tensors) if header else 0
    data["unreadable"] = unreadable
    return data


def _size_or_none(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _expand(paths: tuple[Path, ...]) -> tuple[list[Path], list[Path]]:
    """The assets to inspect, and the folders that held none (reported as input errors)."""
    expanded: list[Path] = []
    empty: list[Path] = []
    for path in paths:
        if (
            path.is_dir()
            and not is_diffusers_folder(path)
            and not sharded_component_files(path)
            and path.suffix not in MODEL_EXTENSIONS
        ):
            found = _model_files_under(path)
            expanded.extend(found)
            if not found:
                empty.append(path)
        else:
            expanded.append(path)
    return expanded, empty


def _model_files_under(root: Path) -> list[Path]:
    found: list[Path] = []
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        stat = os.stat(dirpath)
        if (stat.st_dev, stat.st_ino) in seen_dirs:  # symlink loop
            dirnames[:] = []
            continue
        seen_dirs.add((stat.st_dev, stat.st_ino))
        here = Path(dirpath)
        for name in sorted(dirnames):
            if is_diffusers_folder(here / name):
                found.append(here / name)
        dirnames[:] = sorted(d for d in dirnames if not is_diffusers_folder(here / d))
        shards = sharded_component_files(here, filenames)
        if shards:  # a sharded save_pretrained folder is one asset, its shards are not
            found.append(here)
        models = [
            f
            for f in sorted(filenames)
            if Path(f).suffix.lower() in MODEL_EXTENSIONS and f not in shards
        ]
        found.extend(here / f for f in models)
    return found


def _print_report(report: dict[str, Any], explain: bool) -> None:
    title = escape(report["path"])
    if report["unreadable"]:
        out.print(f"[bold]{title}[/]\n  [red]unreadable[/]: {escape(report['errors'][0])}")
        return
    headline = _headline(report)
    out.print(f"[bold]{title}[/]\n  {escape(headline)}")
    for line in _detail_lines(report):
        out.print(f"  {escape(line)}")
    if report["unsafe"]:
        globals_ = ", ".join(report["unsafe_globals"])
        out.print(f"  [bold red]UNSAFE pickle[/]: imports {escape(globals_)}")
    hashes = report.get("hashes")
    if hashes:
        sha = hashes.get("sha256", "")
        addnet = hashes.get("addnet") or ""
        line = f"sha256 {sha} (AutoV2 {sha[:10]})"
        if addnet:
            line += f", addnet/AutoV3 {addnet[:12]}"
        out.print(f"  {escape(line)}")
    for problem in report["errors"] + report["warnings"]:
        out.print(f"  [yellow]![/] {escape(problem)}")
    if explain:
        out.print("  [dim]evidence:[/]")
        for item in report["evidence"]:
            fact, source = escape(item["fact"]), item["source"]
            out.print(f"    [dim]{item['about']:>9}[/] {fact} [dim]({source})[/]")


def _headline(report: dict[str, Any]) -> str:
    parts = [report["kind"]]
    base = report["base"]
    if base == "unknown" and report["base_candidates"]:
        base = " or ".join(report["base_candidates"])
    if report["edition"]:
        base += f" {report['edition']}"
    parts.append(base)
    if report["variants"]:
        parts.append("+".join(report["variants"]))
    if report["lineage"]:
        parts.append(f"lineage {report['lineage']}")
    parts.append(report["precision"])
    if report["params"]:
        parts.append(_human_count(report["params"]) + " params")
    parts.append(f"confidence {report['confidence']}")
    headline = " · ".join(parts)
    if report["reason"] and "unknown" in (report["kind"], report["base"]):
        headline += f" ({report['reason']})"
    return headline


def _detail_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    components = report["components"]
    if components.get("present") or components.get("missing"):
        lines.append(
            "holds: "
            + (", ".join(components.get("present", [])) or "-")
            + ("; lacks: " + ", ".join(components["missing"]) if components.get("missing") else "")
        )
    lora = report["lora"]
    if lora:
        targets = ", ".join(f"{k} {v}" for k, v in lora.get("targets", {}).items())
        summary = lora_summary(
            lora["format"], lora.get("rank"), lora.get("alpha"), lora.get("module_count", 0)
        )
        lines.append(f"lora: {summary} ({targets})")
    vae = report["vae"]
    if vae:
        bits = [f"latent channels {vae.get('latent_channels')}"]
        if vae.get("known_as"):
            bits.append(f"known as {vae['known_as']}")
        if vae.get("fp16_fix"):
            bits.append("fp16-fix")
        lines.append("vae: " + ", ".join(bits))
    meta = report["metadata"]
    for key in ("title", "trigger_words", "training_base", "clip_skip", "resolution"):
        value = meta.get(key)
        if value:
            shown = ", ".join(map(str, value[:8])) if isinstance(value, list) else str(value)
            lines.append(f"{key.replace('_', ' ')}: {shown}")
    if report["style"]:
        lines.append(f"style: {report['style']['value']} (from {report['style']['source']})")
    return lines


def lora_summary(fmt: str, rank: int | None, alpha: float | None, modules: int) -> str:
    """``kohya, rank 16, alpha 8, 264 modules``; a rank or alpha the file does not state
    (LoKr and full-weight formats have no rank; alpha may live only in tensor data) is left
    out rather than shown as "None"."""
    parts = [fmt]
    if rank is not None:
        parts.append(f"rank {rank}")
    if alpha is not None:
        parts.append(f"alpha {alpha:g}")
    parts.append(f"{modules} modules")
    return ", ".join(parts)


def _human_count(n: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.2f}".rstrip("0").rstrip(".") + unit
    return str(n)


__all__ = ["err", "inspect_path", "lora_summary"]

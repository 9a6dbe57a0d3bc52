"""read_header: dispatch on content, and a clear one-line error for every unreadable path."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from pantry.errors import UnreadableFileError
from pantry.formats import read_header


def _reason(path: Path) -> str:
    with pytest.raises(UnreadableFileError) as caught:
        read_header(path)
    assert "\n" not in str(caught.value)
    return caught.value.reason


def test_safetensors_is_recognised_by_content_whatever_its_name(lora_file: Path) -> None:
    renamed = lora_file.with_name("lora.bin")
    lora_file.rename(renamed)
    assert read_header(renamed).format == "safetensors"


def test_zip_checkpoint_is_recognised_by_content(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "model.weights"
    torch.save({"w": torch.zeros(1)}, path)
    assert read_header(path).format == "pickle"


def test_plain_pickle_is_recognised_by_its_protocol_byte(tmp_path: Path) -> None:
    path = tmp_path / "model.data"
    path.write_bytes(pickle.dumps({"step": 1}, protocol=2))
    assert read_header(path).format == "pickle"


def test_safetensors_suffix_gives_a_safetensors_error_for_garbage(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"<html>not found</html>")
    assert "header length" in _reason(path)


def test_unknown_content_and_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "readme.txt"
    path.write_text("hello")
    assert "not a model file" in _reason(path)


def test_gguf_is_dispatched_to_the_gguf_reader(tmp_path: Path) -> None:
    path = tmp_path / "flux-q4.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(32))  # version 3, no tensors, no keys
    header = read_header(path)
    assert header.format == "gguf"
    assert header.tensors == {}


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.safetensors"
    path.touch()
    assert _reason(path) == "empty file (0 bytes)"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    assert _reason(tmp_path / "nowhere.ckpt") == "no such file"


def test_broken_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link.safetensors"
    link.symlink_to(tmp_path / "gone.safetensors")
    assert _reason(link) == "broken symbolic link"


def test_symlink_loop_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.symlink_to(b)
    b.symlink_to(a)
    assert _reason(a) == "symbolic link loop"


def test_directory_named_like_a_model_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "x.safetensors"
    folder.mkdir()
    assert "is a directory" in _reason(folder)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    assert _reason(fifo) == "not a regular file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_permissions_are_refused(lora_file: Path) -> None:
    lora_file.chmod(0)
    assert _reason(lora_file) == "permission denied"


@pytest.mark.parametrize("module", ["pantry.formats", "pantry.formats.safetensors"])
def test_permission_error_on_open_is_refused(lora_file: Path, monkeypatch, module) -> None:
    # Root ignores file modes, so the refusal is simulated where each reader opens the file.
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(lora_file))

    monkeypatch.setattr(f"{module}.open", refuse, raising=False)
    assert _reason(lora_file) == "permission denied"


def test_reading_headers_never_imports_torch(lora_file: Path) -> None:
    code = (
        "import sys; from pantry.formats import read_header; "
        f"read_header({str(lora_file)!r}); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class _ShellPayload:
    def __reduce__(self):
        return (os.system, ("echo never",))


def test_protocol_0_pickle_named_safetensors_still_reports_its_imports(tmp_path):
    path = tmp_path / "innocent.safetensors"
    path.write_bytes(pickle.dumps({"x": _ShellPayload()}, protocol=0))
    header = read_header(path)
    assert header.format == "pickle"
    assert any(g.endswith(".system") for g in header.unsafe_globals)
    assert any("is a pickle" in w for w in header.warnings)

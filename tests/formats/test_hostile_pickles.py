"""Hostile pickles: reading one runs nothing, and the offending imports are named.

Every payload, if unpickled, creates a marker file. The control test unpickles each one to
prove the payload is live; every other test reads the same bytes with pantry and checks
that the marker never appears.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from pantry.formats import read_header


class _Payload:
    def __init__(self, func: Callable, *args: object):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _os_system(marker: Path) -> tuple[_Payload, str]:
    return _Payload(os.system, f"touch '{marker}'"), f"{os.system.__module__}.system"


def _subprocess_popen(marker: Path) -> tuple[_Payload, str]:
    return _Payload(subprocess.Popen, ["touch", str(marker)]), "subprocess.Popen"


def _builtins_exec(marker: Path) -> tuple[_Payload, str]:
    return _Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()"), "builtins.exec"


def _builtins_eval(marker: Path) -> tuple[_Payload, str]:
    return _Payload(builtins.eval, f"open({str(marker)!r}, 'w').close()"), "builtins.eval"


def _builtins_open(marker: Path) -> tuple[_Payload, str]:
    return _Payload(builtins.open, str(marker), "w"), "io.open"


PAYLOADS = [_os_system, _subprocess_popen, _builtins_exec, _builtins_eval, _builtins_open]


def _marker(tmp_path: Path) -> Path:
    return tmp_path / "payload-ran"


def _wait_for_children() -> None:
    # Popen returns before "touch" finishes; give a live payload time to show itself.
    subprocess.run(["true"], check=True)
    os.sync()


@pytest.mark.parametrize("build", PAYLOADS)
def test_control_each_payload_really_runs_when_unpickled(tmp_path: Path, build) -> None:
    payload, _ = build(_marker(tmp_path))
    result = pickle.loads(pickle.dumps(payload, protocol=2))
    if isinstance(result, subprocess.Popen):
        result.wait()
    if isinstance(result, io.IOBase):
        result.close()
    assert _marker(tmp_path).exists()


@pytest.mark.parametrize("protocol", [0, 2, 4])
@pytest.mark.parametrize("build", PAYLOADS)
def test_plain_hostile_pickle_runs_nothing_and_is_named(tmp_path: Path, build, protocol) -> None:
    payload, global_name = build(_marker(tmp_path))
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": payload}, protocol=protocol))
    header = read_header(path)
    _wait_for_children()
    assert not _marker(tmp_path).exists()
    assert global_name in header.unsafe_globals


@pytest.mark.parametrize("build", PAYLOADS)
def test_hostile_object_inside_a_torch_zip_save(tmp_path: Path, build) -> None:
    payload, global_name = build(_marker(tmp_path))
    path = tmp_path / "model.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2, 2)}, "callbacks": payload}, path)
    header = read_header(path)
    _wait_for_children()
    assert not _marker(tmp_path).exists()
    assert header.unsafe_globals == [global_name]
    assert set(header.tensors) == {"w"}


@pytest.mark.parametrize("build", PAYLOADS)
def test_hostile_object_inside_a_legacy_torch_save(tmp_path: Path, build) -> None:
    payload, global_name = build(_marker(tmp_path))
    path = tmp_path / "model.pth"
    torch.save({"w": torch.zeros(3), "x": payload}, path, _use_new_zipfile_serialization=False)
    header = read_header(path)
    _wait_for_children()
    assert not _marker(tmp_path).exists()
    assert global_name in header.unsafe_globals


def test_hostile_data_pkl_in_a_hand_made_zip(tmp_path: Path) -> None:
    payload, global_name = _os_system(_marker(tmp_path))
    path = tmp_path / "model.bin"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(payload, protocol=2))
        archive.writestr("archive/version", "3\n")
    header = read_header(path)
    _wait_for_children()
    assert not _marker(tmp_path).exists()
    assert header.unsafe_globals == [global_name]
    assert header.warnings  # the top level is not a dict of tensors


def test_inst_opcode_import_is_named(tmp_path: Path) -> None:
    marker = _marker(tmp_path)
    path = tmp_path / "old.ckpt"
    # Protocol 0: MARK, the argument, INST os system, STOP.
    path.write_bytes(f"(S'touch {marker}'\nios\nsystem\n.".encode())
    header = read_header(path)
    assert not marker.exists()
    assert header.unsafe_globals == ["os.system"]


def test_getattr_trick_is_named(tmp_path: Path) -> None:
    # builtins.getattr(builtins, "eval") reaches eval without naming it in a GLOBAL.
    path = tmp_path / "sneaky.pt"
    path.write_bytes(
        b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n__dict__\nX\x04\x00\x00\x00eval\x86R"
        b"X\x04\x00\x00\x001+1;\x85R."
    )
    header = read_header(path)
    assert header.unsafe_globals == ["builtins.getattr", "builtins.__dict__"]


def test_safe_looking_suffix_does_not_hide_a_pickle(tmp_path: Path) -> None:
    payload, global_name = _os_system(_marker(tmp_path))
    path = tmp_path / "innocent.safetensors"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    header = read_header(path)
    assert not _marker(tmp_path).exists()
    assert header.format == "pickle"
    assert global_name in header.unsafe_globals
    assert any("named .safetensors" in w for w in header.warnings)

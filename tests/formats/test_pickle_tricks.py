"""Indirect code execution: calls reached through innocent-looking helpers, hidden behind
container faults, or placed where only some loaders look. Each payload writes a marker file
when unpickled; a control test proves it does, and reading the file with pantry must not.
"""

from __future__ import annotations

import builtins
import copyreg
import functools
import operator
import os
import pickle
import runpy
import struct
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy.testing._private.utils as numpy_testing_utils
import pytest
import torch

from pantry.errors import PickleFormatError
from pantry.formats import read_header
from pantry.formats.pickle_reader import LEGACY_MAGIC


class _Call:
    """Pickles as ``func(*args)``; ``func`` may be a _Call too (calling a call's result)."""

    def __init__(self, func: object, *args: object):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args

    def __call__(self, *args: object) -> None:  # pickle only checks that a callee is callable
        raise AssertionError("never called")


def _write(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


def _getattr_import(marker: Path) -> _Call:
    os_module = _Call(builtins.__import__, "os")
    return _Call(_Call(builtins.getattr, os_module, "system"), f"touch '{marker}'")


def _attrgetter(marker: Path) -> _Call:
    getter = operator.attrgetter("system")
    return _Call(_Call(getter, _Call(builtins.__import__, "os")), f"touch '{marker}'")


def _partial(marker: Path) -> _Call:
    return _Call(functools.partial(os.system, f"touch '{marker}'"))


def _runpy(marker: Path) -> _Call:
    return _Call(runpy._run_code, _write(marker), {})


def _nested_pickle(marker: Path) -> _Call:
    return _Call(pickle.loads, pickle.dumps(_Call(os.system, f"touch '{marker}'"), protocol=2))


def _numpy_runstring(marker: Path) -> _Call:
    return _Call(numpy_testing_utils.runstring, _write(marker), {})


def _copyreg_reconstructor(marker: Path) -> _Call:
    # _reconstructor(cls, base, state) calls base.__init__(obj, state): here Popen.__init__.
    return _Call(copyreg._reconstructor, subprocess.Popen, subprocess.Popen, ["touch", str(marker)])


def _torch_jit_exec(marker: Path) -> _Call:
    from torch.jit import unsupported_tensor_ops

    return _Call(unsupported_tensor_ops.execWrapper, _write(marker), {}, {})


# (payload builder, the globals pantry must name, exactly)
TRICKS: list[tuple[Callable[[Path], _Call], set[str]]] = [
    (_getattr_import, {"builtins.getattr", "builtins.__import__"}),
    (_attrgetter, {"operator.attrgetter", "builtins.__import__"}),
    (_partial, {"functools.partial", f"{os.system.__module__}.system"}),
    (_runpy, {"runpy._run_code"}),
    (_nested_pickle, {"pickle.loads"}),
    (_numpy_runstring, {"numpy.testing._private.utils.runstring"}),
    (_copyreg_reconstructor, {"copyreg._reconstructor", "subprocess.Popen"}),
    (_torch_jit_exec, {"torch.jit.unsupported_tensor_ops.execWrapper"}),
]
IDS = [build.__name__.strip("_") for build, _ in TRICKS]


def _marker(tmp_path: Path) -> Path:
    return tmp_path / "payload-ran"


@pytest.mark.parametrize(("build", "names"), TRICKS, ids=IDS)
def test_control_each_trick_runs_when_unpickled(tmp_path: Path, build, names) -> None:
    result = pickle.loads(pickle.dumps(build(_marker(tmp_path)), protocol=2))
    if isinstance(result, subprocess.Popen):
        result.wait()
    assert _marker(tmp_path).exists()


@pytest.mark.parametrize(("build", "names"), TRICKS, ids=IDS)
def test_trick_inside_a_checkpoint_is_named_and_never_runs(tmp_path: Path, build, names) -> None:
    path = tmp_path / "model.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "hook": build(_marker(tmp_path))}, path)
    header = read_header(path)
    assert not _marker(tmp_path).exists()
    assert set(header.unsafe_globals) == names
    assert set(header.tensors) == {"w"}


def test_torch_c_function_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    path.write_bytes(b"\x80\x02ctorch._C\n_set_grad_enabled\n\x89\x85R.")
    assert read_header(path).unsafe_globals == ["torch._C._set_grad_enabled"]


def test_global_built_at_load_time_is_flagged_as_unknowable(tmp_path: Path) -> None:
    # STACK_GLOBAL whose module name is the result of a call.
    path = tmp_path / "dynamic.pt"
    path.write_bytes(b"\x80\x04\x8c\x08builtins\x8c\x03str\x93\x8c\x02os\x85R\x8c\x06system\x93.")
    assert read_header(path).unsafe_globals == ["builtins.str", "<builtins.str>.system"]


def _os_system_then(marker: Path, tail: bytes) -> bytes:
    command = f"touch '{marker}'".encode()
    return b"\x80\x04cos\nsystem\nX" + struct.pack("<I", len(command)) + command + b"\x85R0" + tail


@pytest.mark.parametrize(
    "tail",
    [
        b"h\x03h\x00\x93K\x42.",  # fetches a memo slot never stored
        b"X\xff\x00\x00\x00short",  # truncated string
        b"",  # no STOP
    ],
    ids=["missing-memo", "truncated", "no-stop"],
)
def test_fault_after_a_dangerous_call_still_reports_it(tmp_path: Path, tail) -> None:
    data = _os_system_then(_marker(tmp_path), tail)
    path = tmp_path / "broken.pkl.pt"
    path.write_bytes(data)
    header = read_header(path)
    assert not _marker(tmp_path).exists()
    assert header.unsafe_globals == ["os.system"]
    assert header.warnings and "malformed pickle" in header.warnings[0]
    with pytest.raises(Exception):  # noqa: B017 - any unpickling error; the call already ran
        pickle.loads(data)
    assert _marker(tmp_path).exists()


def test_fault_without_dangerous_import_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pt"
    path.write_bytes(b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01h\x07s.")
    with pytest.raises(PickleFormatError, match="malformed pickle"):
        read_header(path)


def test_legacy_storage_key_pickle_is_scanned(tmp_path: Path) -> None:
    # torch.load unpickles five pickles from an old-format file; the fifth (storage keys)
    # is as dangerous as the data pickle.
    path = tmp_path / "old.pth"
    with open(path, "wb") as f:
        for part in (LEGACY_MAGIC, 1001, {"little_endian": True}, {"w": 1}):
            pickle.dump(part, f, protocol=2)
        pickle.dump(_Call(os.system, f"touch '{_marker(tmp_path)}'"), f, protocol=2)
    header = read_header(path)
    assert header.unsafe_globals == [f"{os.system.__module__}.system"]
    assert header.extras == {"w": 1}


def test_magic_number_made_by_eval_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "bypass.pt"
    with open(path, "wb") as f:
        pickle.dump(_Call(builtins.eval, hex(LEGACY_MAGIC)), f, protocol=2)
        pickle.dump(1001, f, protocol=2)
    assert read_header(path).unsafe_globals == ["builtins.eval"]


def _hostile_zip(path: Path, marker: Path, entries: list[tuple[str, bytes]]) -> None:
    payload = pickle.dumps(_Call(os.system, f"touch '{marker}'"), protocol=2)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            archive.writestr(name, payload if data == b"PAYLOAD" else data)


def test_zip_data_pkl_is_taken_from_the_first_entrys_folder(tmp_path: Path) -> None:
    # torch reads <folder of the first entry>/data.pkl, whatever else the archive holds.
    path = tmp_path / "two.ckpt"
    benign = pickle.dumps({"w": 1}, protocol=2)
    entries = [("b/version", b"3\n"), ("a/data.pkl", benign), ("b/data.pkl", b"PAYLOAD")]
    _hostile_zip(path, _marker(tmp_path), entries)
    header = read_header(path)
    assert header.unsafe_globals == [f"{os.system.__module__}.system"]


def test_other_pickles_in_the_archive_are_scanned(tmp_path: Path) -> None:
    path = tmp_path / "scripted.pt"
    benign = pickle.dumps({"w": 1}, protocol=2)
    entries = [("m/data.pkl", benign), ("m/constants.pkl", b"PAYLOAD")]
    _hostile_zip(path, _marker(tmp_path), entries)
    header = read_header(path)
    assert header.unsafe_globals == [f"{os.system.__module__}.system"]
    assert header.extras == {"w": 1}


def _patch(path: Path, old: bytes, new: bytes, count: int = 1) -> None:
    data = path.read_bytes()
    assert data.count(old) >= count
    path.write_bytes(data.replace(old, new, count))


@pytest.mark.parametrize("fault", ["crc", "encrypted-flag", "local-name"])
def test_zip_faults_do_not_hide_a_payload(tmp_path: Path, fault) -> None:
    # torch.load ignores a bad CRC and a local header naming another file (checked with
    # torch 2.x); it refuses the encrypted flag, but a scanner should not rely on that.
    path = tmp_path / "model.ckpt"
    _hostile_zip(path, _marker(tmp_path), [("archive/data.pkl", b"PAYLOAD")])
    info = zipfile.ZipFile(path).infolist()[0]
    if fault == "crc":
        _patch(path, struct.pack("<I", info.CRC), struct.pack("<I", info.CRC ^ 1), count=2)
    elif fault == "encrypted-flag":
        data = bytearray(path.read_bytes())
        data[6] |= 1  # general purpose flags: local header, then central directory
        data[data.index(b"PK\x01\x02") + 8] |= 1
        path.write_bytes(bytes(data))
    else:
        _patch(path, b"archive/data.pkl", b"archive/data.pkX")  # local header comes first
    header = read_header(path)
    assert not _marker(tmp_path).exists()
    assert header.unsafe_globals == [f"{os.system.__module__}.system"]


def test_ext_opcode_is_flagged(tmp_path: Path) -> None:
    # EXT1 looks a global up in copyreg's extension registry: the file cannot say which.
    path = tmp_path / "ext.pt"
    path.write_bytes(b"\x80\x02\x82\x01)R.")
    assert read_header(path).unsafe_globals == ["copyreg.extension.1"]


def test_obj_opcode_calling_a_function_is_flagged(tmp_path: Path) -> None:
    marker = _marker(tmp_path)
    data = f"(cos\nsystem\nS'touch {marker}'\no.".encode()
    path = tmp_path / "obj.pt"
    path.write_bytes(data)
    assert read_header(path).unsafe_globals == ["os.system"]
    assert not marker.exists()


def test_dict_key_nested_a_million_deep_is_refused_not_a_crash(tmp_path: Path) -> None:
    # Hashing such a key would overflow the C stack and kill the process.
    path = tmp_path / "deep.pt"
    path.write_bytes(b"\x80\x02}K\x01" + b"\x85" * 1_000_000 + b"K\x02s.")
    with pytest.raises(PickleFormatError, match="nested too deep"):
        read_header(path)

"""Read legacy torch checkpoints (``.ckpt .pt .pth .bin``) without unpickling them.

Two containers hold the pickle:

- a zip archive (``torch.save`` since 1.6): ``<any folder>/data.pkl`` plus one raw file per
  storage under ``<folder>/data/``;
- a plain stream (older ``torch.save``, or ``_use_new_zipfile_serialization=False``): pickles
  of a magic number, a protocol version and a system-info dict, then the data pickle, then the
  raw storages. A file whose first pickle is not the magic number is read as a bare pickle.

The data pickle is walked opcode by opcode (``pickletools.genops``) through a small symbolic
stack machine that never imports or calls anything: ``pickle.load``/``torch.load`` would run
whatever callable the file names. Tensors are recognised by torch's rebuild functions and
their storage's persistent id, which name the dtype and shape. Every imported global is
recorded; those outside ``pickle_globals.SAFE_GLOBALS`` are the file's ``unsafe_globals``.

Names: a dict under ``"state_dict"`` (Lightning / SD ``.ckpt``) is the state dict itself;
otherwise the whole top-level dict is. Nested containers are flattened with dotted names
(``string_to_param.*`` for an A1111 embedding, ``768.0.linear.0.weight`` for a hypernetwork).
Top-level plain values (``global_step``, ``name``, ``layer_structure``, …) go to ``extras``.
"""

from __future__ import annotations

import _compat_pickle
import math
import os
import pickletools
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO

from pantry.errors import PickleFormatError, UnreadableFileError
from pantry.formats._files import os_error_reason
from pantry.formats.header import Header, TensorInfo
from pantry.formats.pickle_globals import (
    SAFE_GLOBALS,
    STORAGE_DTYPES,
    TENSOR_REBUILDERS,
    TORCH_DTYPES,
)

# First pickle of a legacy torch.save stream.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
# A data pickle names each tensor in ~100 bytes; even huge checkpoints stay far below this.
MAX_PICKLE_BYTES = 256 * 1024 * 1024
# Shared references can make a small pickle describe an exponentially large tree.
MAX_FLATTEN_NODES = 2_000_000
MAX_DEPTH = 64
# Extras are for showing: short strings and small containers of plain values only.
MAX_EXTRA_STRING = 1000
MAX_EXTRA_ITEMS = 100

_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    struct.error,
    ValueError,
)


def read_pickle_header(path: str | Path) -> Header:
    """List the tensors and imported globals of a torch checkpoint without running it."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            if f.read(2) == b"PK":
                f.seek(0)
                walker, root = _walk_zip(path, f)
            else:
                f.seek(0)
                walker, root = _walk_plain(path, f, file_size)
    except OSError as error:
        raise UnreadableFileError(path, os_error_reason(error)) from None
    tensors, extras, warnings = _collect(root)
    return Header(
        path=path,
        format="pickle",
        file_size=file_size,
        tensors=tensors,
        pickle_globals=list(walker.globals),
        unsafe_globals=[name for name in walker.globals if name not in SAFE_GLOBALS],
        extras=extras,
        warnings=warnings,
    )


# --- containers -------------------------------------------------------------------------------


def _walk_zip(path: Path, f: IO[bytes]) -> tuple[_Walker, object]:
    try:
        with zipfile.ZipFile(f) as archive:
            entry = _find_data_pickle(path, archive)
            if entry.file_size > MAX_PICKLE_BYTES:
                raise PickleFormatError(path, f"data.pkl is {entry.file_size} bytes: too large")
            with archive.open(entry) as stream:
                walker = _Walker(path)
                return walker, walker.run(_BoundedReader(stream, entry.file_size))
    except _ZIP_ERRORS as error:
        raise PickleFormatError(path, f"broken zip archive: {_one_line(error)}") from None


def _find_data_pickle(path: Path, archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    # torch names the folder after the file it first saved to; any name is valid.
    entries = [i for i in archive.infolist() if i.filename.endswith("/data.pkl")]
    entries = [i for i in entries if i.filename.count("/") == 1]
    if not entries:
        raise PickleFormatError(path, "zip archive without data.pkl: not a torch checkpoint")
    return entries[0]


def _walk_plain(path: Path, f: IO[bytes], file_size: int) -> tuple[_Walker, object]:
    stream = _BoundedReader(f, min(file_size, MAX_PICKLE_BYTES))
    walker = _Walker(path)
    first = walker.run(stream)
    if type(first) is not int or first != LEGACY_MAGIC:
        return walker, first
    walker.run(stream)  # protocol version
    walker.run(stream)  # system info (byte order, type sizes)
    return walker, walker.run(stream)


class _BoundedReader:
    """File-like view that never hands genops more than ``limit`` bytes in total.

    A hostile length prefix (BINBYTES8 claiming 2**62 bytes) would otherwise make a
    buffered ``read(n)`` try to allocate that much.
    """

    def __init__(self, raw: IO[bytes], limit: int):
        self._raw = raw
        self._left = limit
        self._position = 0

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._raw.read(n)
        self._left -= len(data)
        self._position += len(data)
        return data

    def readline(self) -> bytes:
        line = self._raw.readline(min(self._left, 1 << 20))
        self._left -= len(line)
        self._position += len(line)
        return line

    def tell(self) -> int:
        return self._position


# --- the symbolic machine ---------------------------------------------------------------------


class _Global:
    """A name the pickle imported; never resolved."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class _Storage:
    __slots__ = ("dtype",)

    def __init__(self, dtype: str | None):
        self.dtype = dtype


class _Opaque:
    """Whatever a call to a non-tensor callable would have built."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class _Malformed(Exception):
    pass


_PUSH_ARG = frozenset(
    {
        "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
        "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
        "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8",
    }
)  # fmt: skip
_PUSH_CONSTANT = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_IGNORED = frozenset({"FRAME"})


class _Walker:
    """Runs pickles symbolically; remembers every global they import, in order."""

    def __init__(self, path: Path):
        self.path = path
        self.globals: dict[str, None] = {}

    def run(self, stream: _BoundedReader) -> object:
        position = 0
        try:
            machine = _Machine(self)
            for opcode, arg, offset in pickletools.genops(stream):
                position = offset
                machine.step(opcode.name, arg)
            return machine.result
        except _Malformed as error:
            reason = f"malformed pickle at byte {position}: {error}"
        except (ValueError, KeyError, IndexError, TypeError, OverflowError) as error:
            reason = f"malformed pickle at byte {position}: {_one_line(error)}"
        raise PickleFormatError(self.path, reason)

    def record(self, module: object, name: object, protocol: int) -> _Global:
        if isinstance(module, str) and isinstance(name, str):
            if protocol < 3:
                # Python 3 maps Python 2 names back when loading (fix_imports), so
                # "__builtin__.eval" really imports builtins.eval: record what would load.
                module, name = _python3_name(module, name)
            full = f"{module}.{name}"
        else:
            full = f"{module!r}.{name!r}"
        if len(full) > 200 or not full.isprintable():
            full = ascii(full[:200])
        self.globals[full] = None
        return _Global(full)


class _Machine:
    def __init__(self, walker: _Walker):
        self.walker = walker
        self.stack: list = []
        self.marks: list[list] = []
        self.memo: dict = {}
        self.result: object = None
        self.protocol = 0

    def pop_mark(self) -> list:
        if not self.marks:
            raise _Malformed("no MARK to pop")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def pop(self) -> object:
        if not self.stack:
            raise _Malformed("stack underflow")
        return self.stack.pop()

    def top(self) -> object:
        if not self.stack:
            raise _Malformed("stack underflow")
        return self.stack[-1]

    def step(self, op: str, arg: object) -> None:
        stack = self.stack
        if op in _PUSH_ARG:
            stack.append(arg)
        elif op in _PUSH_CONSTANT:
            stack.append(_PUSH_CONSTANT[op])
        elif op == "MARK":
            self.marks.append(stack)
            self.stack = []
        elif op in ("EMPTY_LIST", "EMPTY_SET"):
            stack.append([])  # sets are kept as lists: their items may be unhashable here
        elif op == "EMPTY_DICT":
            stack.append({})
        elif op == "EMPTY_TUPLE":
            stack.append(())
        elif op == "LIST":
            items = self.pop_mark()
            self.stack.append(items)
        elif op in ("TUPLE", "FROZENSET"):
            items = tuple(self.pop_mark())
            self.stack.append(items)
        elif op in ("TUPLE1", "TUPLE2", "TUPLE3"):
            count = int(op[-1])
            if len(stack) < count:
                raise _Malformed("stack underflow")
            items = tuple(stack[-count:])
            del stack[-count:]
            stack.append(items)
        elif op == "DICT":
            items = self.pop_mark()
            self.stack.append(_pairs_to_dict(items))
        elif op == "APPEND":
            value = self.pop()
            target = self.top()
            if isinstance(target, list):
                target.append(value)
        elif op in ("APPENDS", "ADDITEMS"):
            items = self.pop_mark()
            target = self.top()
            if isinstance(target, list):
                target.extend(items)
        elif op == "SETITEM":
            value = self.pop()
            key = self.pop()
            target = self.top()
            if isinstance(target, dict):
                target[_hashable(key)] = value
        elif op == "SETITEMS":
            items = self.pop_mark()
            target = self.top()
            if isinstance(target, dict):
                target.update(_pairs_to_dict(items))
        elif op == "POP":
            if stack:
                stack.pop()
            else:
                self.pop_mark()
        elif op == "POP_MARK":
            self.pop_mark()
        elif op == "DUP":
            stack.append(self.top())
        elif op in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[arg] = self.top()
        elif op == "MEMOIZE":
            self.memo[len(self.memo)] = self.top()
        elif op in ("GET", "BINGET", "LONG_BINGET"):
            if arg not in self.memo:
                raise _Malformed(f"memo key {arg} was never stored")
            stack.append(self.memo[arg])
        elif op in ("GLOBAL", "INST"):
            module, _, name = str(arg).partition(" ")
            found = self.walker.record(module, name, self.protocol)
            if op == "INST":
                self.pop_mark()
                stack = self.stack
                stack.append(_Opaque(found.name))
            else:
                stack.append(found)
        elif op == "STACK_GLOBAL":
            name = self.pop()
            module = self.pop()
            stack.append(self.walker.record(module, name, self.protocol))
        elif op in ("EXT1", "EXT2", "EXT4"):
            # The copyreg extension registry maps a code to an arbitrary global.
            stack.append(self.walker.record("copyreg.extension", str(arg), 3))
        elif op == "REDUCE":
            args = self.pop()
            func = self.pop()
            stack.append(_call(func, args))
        elif op == "OBJ":
            items = self.pop_mark()
            self.stack.append(_Opaque(_name_of(items[0] if items else None)))
        elif op == "NEWOBJ":
            self.pop()
            self.stack.append(_Opaque(_name_of(self.pop())))
        elif op == "NEWOBJ_EX":
            self.pop()
            self.pop()
            self.stack.append(_Opaque(_name_of(self.pop())))
        elif op == "BUILD":
            self.pop()  # object state: applying it would run __setstate__
            self.top()
        elif op == "PERSID":
            stack.append(_Opaque("persistent id"))
        elif op == "BINPERSID":
            stack.append(_persistent(self.pop()))
        elif op in ("NEXT_BUFFER", "READONLY_BUFFER"):
            if op == "NEXT_BUFFER":
                stack.append(_Opaque("out-of-band buffer"))
        elif op == "PROTO":
            self.protocol = arg if type(arg) is int else 0
        elif op == "STOP":
            self.result = self.pop()
        elif op not in _IGNORED:
            raise _Malformed(f"unsupported opcode {op}")


def _call(func: object, args: object) -> object:
    """What calling ``func(*args)`` would yield, as far as pantry cares."""
    if not isinstance(func, _Global):
        return _Opaque("call")
    name = func.name
    if not isinstance(args, tuple):
        return _Opaque(name)
    if name in TENSOR_REBUILDERS:
        return _rebuild_tensor(name, args) or _Opaque(name)
    if name == "collections.OrderedDict":
        return {}
    if name == "torch.Size" and args and isinstance(args[0], tuple | list):
        return tuple(args[0])
    if name in ("builtins.set", "builtins.frozenset") and args:
        return list(args[0]) if isinstance(args[0], list | tuple) else []
    if name == "_codecs.encode" and args and isinstance(args[0], str):
        return args[0].encode("latin-1", errors="replace")
    return _Opaque(name)


def _rebuild_tensor(name: str, args: tuple) -> TensorInfo | None:
    short = name.rsplit(".", 1)[1]
    if short in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
        return args[0] if args and isinstance(args[0], TensorInfo) else None
    if short == "_rebuild_from_type_v2":
        if len(args) >= 3:
            inner = _call(args[0], args[2])
            return inner if isinstance(inner, TensorInfo) else None
        return None
    if short == "_rebuild_meta_tensor_no_storage":
        dtype = _torch_dtype(args[0]) if args else None
        shape = args[1] if len(args) > 1 else None
    else:  # _rebuild_tensor, _v2, _v3: (storage, offset, size, stride, ...[, dtype at 6])
        storage = args[0] if args else None
        if not isinstance(storage, _Storage) or len(args) < 3:
            return None
        dtype = _torch_dtype(args[6]) if short == "_rebuild_tensor_v3" and len(args) > 6 else None
        dtype = dtype or storage.dtype
        shape = args[2]
    if dtype is None or not isinstance(shape, tuple):
        return None
    if not all(type(d) is int and 0 <= d < 2**63 for d in shape):
        return None
    return TensorInfo(dtype, shape)


def _persistent(pid: object) -> object:
    # torch: ("storage", storage type, key, location, numel[, view metadata])
    if isinstance(pid, tuple) and len(pid) >= 2 and pid[0] == "storage":
        kind = pid[1]
        if isinstance(kind, _Global):
            return _Storage(STORAGE_DTYPES.get(kind.name.rsplit(".", 1)[-1]))
    return _Opaque("persistent id")


def _torch_dtype(value: object) -> str | None:
    if isinstance(value, _Global) and value.name.startswith("torch."):
        return TORCH_DTYPES.get(value.name[len("torch.") :])
    return None


def _python3_name(module: str, name: str) -> tuple[str, str]:
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[module, name]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _name_of(value: object) -> str:
    return value.name if isinstance(value, _Global | _Opaque) else "object"


def _hashable(key: object) -> object:
    try:
        hash(key)
    except TypeError:
        raise _Malformed("unhashable dict key") from None
    return key


def _pairs_to_dict(items: list) -> dict:
    if len(items) % 2:
        raise _Malformed("odd number of items for a dict")
    return {_hashable(items[i]): items[i + 1] for i in range(0, len(items), 2)}


# --- from the walked object to names ----------------------------------------------------------


def _collect(root: object) -> tuple[dict[str, TensorInfo], dict[str, object], list[str]]:
    warnings: list[str] = []
    extras: dict[str, object] = {}
    if isinstance(root, dict):
        state_dict = root.get("state_dict")
        if isinstance(state_dict, dict):
            tensors = _flatten(state_dict, warnings)
            rest = {k: v for k, v in root.items() if k != "state_dict"}
        else:
            tensors = _flatten(root, warnings)
            rest = root
        for key, value in rest.items():
            segment = _segment(key)
            plain = _plain(value, depth=0)
            if segment is not None and plain is not _NOT_PLAIN:
                extras[segment] = plain
    elif isinstance(root, TensorInfo):
        tensors = {"tensor": root}
    elif isinstance(root, list | tuple):
        tensors = _flatten(root, warnings)
    else:
        tensors = {}
        warnings.append(f"the pickle holds a {_name_of(root)} object, not a dict of tensors")
    return tensors, extras, warnings


def _flatten(root: dict | list | tuple, warnings: list[str]) -> dict[str, TensorInfo]:
    tensors: dict[str, TensorInfo] = {}
    budget = MAX_FLATTEN_NODES
    todo: list[tuple[str, object, int]] = [("", root, 0)]
    while todo:
        prefix, node, depth = todo.pop()
        if isinstance(node, TensorInfo):
            tensors[prefix] = node
            continue
        if depth >= MAX_DEPTH:
            continue
        if isinstance(node, dict):
            children = node.items()
        elif isinstance(node, list | tuple):
            children = enumerate(node)
        else:
            continue
        budget -= len(node)
        if budget < 0:
            warnings.append("the pickle's structure is too large or self-referential; cut short")
            break
        for key, child in reversed(list(children)):
            segment = _segment(key)
            if segment is not None and isinstance(child, TensorInfo | dict | list | tuple):
                todo.append((f"{prefix}.{segment}" if prefix else segment, child, depth + 1))
    return tensors


def _segment(key: object) -> str | None:
    if isinstance(key, str):
        return key
    if type(key) is int and abs(key) < 2**63:
        return str(key)
    return None


_NOT_PLAIN = object()


def _plain(value: object, depth: int) -> object:
    """``value`` if it is a small JSON-like value worth showing, else ``_NOT_PLAIN``."""
    if value is None or isinstance(value, bool):
        return value
    if type(value) is int:
        return value if abs(value) < 2**63 else _NOT_PLAIN
    if type(value) is float:
        return value if math.isfinite(value) else _NOT_PLAIN
    if type(value) is str:
        return value if len(value) <= MAX_EXTRA_STRING else _NOT_PLAIN
    if depth >= 2 or not isinstance(value, list | tuple | dict) or len(value) > MAX_EXTRA_ITEMS:
        return _NOT_PLAIN
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            segment, plain = _segment(key), _plain(item, depth + 1)
            if segment is None or plain is _NOT_PLAIN:
                return _NOT_PLAIN
            out[segment] = plain
        return out
    items = [_plain(item, depth + 1) for item in value]
    return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__

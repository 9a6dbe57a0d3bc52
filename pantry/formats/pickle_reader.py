"""Read legacy torch checkpoints (``.ckpt .pt .pth .bin``) without unpickling them.

Two containers hold the pickle:

- a zip archive (``torch.save`` since 1.6): ``<folder>/data.pkl`` plus one raw file per
  storage under ``<folder>/data/``. Like torch, the folder is that of the archive's first
  entry; any other ``.pkl`` member is scanned for imports too. Only pickles are read, never
  the storages;
- a plain stream (older ``torch.save``, or ``_use_new_zipfile_serialization=False``): pickles
  of a magic number, a protocol version and a system-info dict, then the data pickle, the
  list of storage keys, then the raw storages. A file whose first pickle is not the magic
  number is read as a bare pickle.

A pickle that breaks after importing something unsafe is not refused but reported, with its
fault as a warning: an unpickler would already have run the import when it met the fault.

The data pickle is walked opcode by opcode (``pickletools.genops``) through a small symbolic
stack machine that never imports or calls anything: ``pickle.load``/``torch.load`` would run
whatever callable the file names. Tensors are recognised by torch's rebuild functions and
their storage's persistent id, which name the dtype and shape. Every imported global is
recorded; those outside ``pickle_globals.SAFE_GLOBALS`` are the file's ``unsafe_globals``.

Names: a dict under ``"state_dict"`` (Lightning / SD ``.ckpt``) is the state dict itself;
otherwise the whole top-level dict is. Nested containers are flattened with dotted names
(``string_to_param.*`` for an A1111 embedding, ``768.0.linear.0.weight`` for a hypernetwork).
A pickled ``torch.nn.Module`` (a whole model, or the ``ParameterDict`` of an embedding) is
named as its ``state_dict()`` would be. Top-level plain values (``global_step``, ``name``,
``layer_structure``, numpy scalars as numbers, …) go to ``extras``.
"""

from __future__ import annotations

import _compat_pickle
import io
import itertools
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
    NUMPY_ARRAY_GLOBALS,
    NUMPY_DTYPE_GLOBALS,
    NUMPY_DTYPES,
    NUMPY_SCALAR_GLOBALS,
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
MAX_KEY_DEPTH = 16
# Pickles in a zip besides data.pkl (TorchScript's constants.pkl, hand-made extras).
MAX_EXTRA_PICKLES = 64
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
    walker = _Walker(path)
    try:
        with open(path, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            if f.read(4) == b"PK\x03\x04":  # torch.load's own test for its zip format
                root, notes = _walk_zip(path, f, walker)
            else:
                f.seek(0)
                root, notes = _walk_plain(path, f, file_size, walker)
    except OSError as error:
        raise UnreadableFileError(path, os_error_reason(error)) from None
    except PickleFormatError as error:
        # An unpickler imports and calls as it goes: a fault after a dangerous import comes too
        # late to protect anyone, so such a file is reported as unsafe, not merely unreadable.
        if not walker.unsafe:
            raise
        root, notes = None, [error.reason]
    tensors, extras, warnings = _collect(root)
    return Header(
        path=path,
        format="pickle",
        file_size=file_size,
        tensors=tensors,
        pickle_globals=list(walker.globals),
        unsafe_globals=walker.unsafe,
        extras=extras,
        warnings=notes + warnings,
    )


# --- containers -------------------------------------------------------------------------------


def _walk_zip(path: Path, f: IO[bytes], walker: _Walker) -> tuple[object, list[str]]:
    notes: list[str] = []
    try:
        with zipfile.ZipFile(f) as archive:
            main, others = _pickle_members(path, archive)
            root = walker.run(_member_stream(path, f, main))
            if len(others) > MAX_EXTRA_PICKLES:
                notes.append(f"only {MAX_EXTRA_PICKLES} of {len(others)} other pickles scanned")
            for entry in others[:MAX_EXTRA_PICKLES]:
                # torch.load reads only data.pkl, but other loaders (torch.jit, pickle.load
                # on an extracted member) read the rest: their imports count too.
                try:
                    walker.run(_member_stream(path, f, entry))
                except PickleFormatError as error:
                    notes.append(f"{entry.filename}: {error.reason}")
                except _ZIP_ERRORS as error:
                    notes.append(f"{entry.filename}: unreadable: {_one_line(error)}")
            return root, notes
    except _ZIP_ERRORS as error:
        raise PickleFormatError(path, f"broken zip archive: {_one_line(error)}") from None


def _pickle_members(
    path: Path, archive: zipfile.ZipFile
) -> tuple[zipfile.ZipInfo, list[zipfile.ZipInfo]]:
    """The data pickle torch.load would read, and every other pickle in the archive."""
    infos = archive.infolist()
    pickles = [i for i in infos if i.filename.endswith(".pkl")]
    # torch takes the folder of the archive's first entry; any folder name is valid.
    folder = infos[0].filename.partition("/")[0] if infos else ""
    candidates = [i for i in pickles if i.filename == f"{folder}/data.pkl"]
    candidates = candidates or [
        i for i in pickles if i.filename.endswith("/data.pkl") and i.filename.count("/") == 1
    ]
    if not candidates:
        raise PickleFormatError(path, "zip archive without data.pkl: not a torch checkpoint")
    return candidates[0], [i for i in pickles if i is not candidates[0]]


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _member_stream(path: Path, f: IO[bytes], entry: zipfile.ZipInfo) -> _BoundedReader:
    """One member's bytes, read the lenient way torch's zip reader (miniz) reads them.

    ``zipfile.ZipFile.open`` refuses a member whose local header names another file or whose
    CRC does not match; torch loads such files anyway, so a hostile pickle could hide behind
    those faults (the "encrypted" flag is ignored too, for loaders that ignore it). The central
    directory still comes from ``zipfile``; only this member read is by hand.
    """
    if entry.file_size > MAX_PICKLE_BYTES:
        raise PickleFormatError(path, f"{entry.filename} is {entry.file_size} bytes: too large")
    f.seek(entry.header_offset)
    fields = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
    if fields[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {entry.filename}")
    f.seek(entry.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1])
    raw = f.read(min(entry.compress_size, MAX_PICKLE_BYTES))
    if entry.compress_type == zipfile.ZIP_DEFLATED:
        raw = zlib.decompressobj(-15).decompress(raw, MAX_PICKLE_BYTES)
    elif entry.compress_type != zipfile.ZIP_STORED:
        raise NotImplementedError(f"{entry.filename} uses compression method {entry.compress_type}")
    return _BoundedReader(io.BytesIO(raw), len(raw))


def _walk_plain(
    path: Path, f: IO[bytes], file_size: int, walker: _Walker
) -> tuple[object, list[str]]:
    f.seek(257)
    if f.read(5) == b"ustar":
        # torch 0.1-0.3 saved a tar of several pickles and raw storages interleaved.
        raise PickleFormatError(path, "tar-format torch checkpoint (torch < 0.4): not supported")
    f.seek(0)
    stream = _BoundedReader(f, min(file_size, MAX_PICKLE_BYTES))
    first = walker.run(stream)
    if type(first) is not int or first != LEGACY_MAGIC:
        return first, []
    walker.run(stream)  # protocol version
    walker.run(stream)  # system info (byte order, type sizes)
    root = walker.run(stream)
    # torch.load unpickles a fifth pickle, the list of storage keys, before the raw storages.
    try:
        walker.run(stream)
    except PickleFormatError as error:
        return root, [f"storage key list: {error.reason}"]
    return root, []


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
    """Whatever a call to a non-tensor callable would have built.

    ``state`` is what BUILD would have handed to ``__setstate__``: for a pickled
    ``torch.nn.Module`` it holds ``_parameters``, ``_buffers`` and ``_modules``.
    """

    __slots__ = ("name", "state")

    def __init__(self, name: str):
        self.name = name
        self.state: object = None


class _NumpyDtype:
    """``numpy.dtype(code)``: a type code such as ``"f4"``; BUILD adds the byte order."""

    __slots__ = ("code", "order")

    def __init__(self, code: str):
        self.code = code
        self.order = "<"


class _NumpyArray:
    """``numpy.core.multiarray._reconstruct``: BUILD fills in shape and dtype."""

    __slots__ = ("dtype", "shape")

    def __init__(self) -> None:
        self.shape: tuple | None = None
        self.dtype: _NumpyDtype | None = None


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

    @property
    def unsafe(self) -> list[str]:
        return [name for name in self.globals if name not in SAFE_GLOBALS]

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
            # Built at load time (e.g. by a call): no reader can tell what it will import.
            full = f"{_describe(module)}.{_describe(name)}"
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
            # Never applied (that would run __setstate__); kept for what it says.
            state = self.pop()
            _build(self.top(), state)
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
    if name == "collections.Counter":
        return dict(args[0]) if args and isinstance(args[0], dict) else {}
    if name == "torch.Size" and args and isinstance(args[0], tuple | list):
        return tuple(args[0])
    if name in ("builtins.set", "builtins.frozenset") and args:
        return list(args[0]) if isinstance(args[0], list | tuple) else []
    if name == "_codecs.encode" and args and isinstance(args[0], str):
        return args[0].encode("latin-1", errors="replace")
    if name in NUMPY_DTYPE_GLOBALS and args and isinstance(args[0], str):
        return _NumpyDtype(args[0])
    if name in NUMPY_ARRAY_GLOBALS:
        return _NumpyArray()
    if name in NUMPY_SCALAR_GLOBALS and len(args) == 2:
        return _numpy_scalar(*args)
    return _Opaque(name)


def _build(target: object, state: object) -> None:
    """Record what BUILD would set on ``target``, for the objects pantry reads."""
    if isinstance(target, _Opaque):
        # (dict state, slot state) from objects with __slots__; the dict is what matters.
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
            state = state[0]
        target.state = state
    elif isinstance(target, _NumpyDtype) and isinstance(state, tuple) and len(state) > 1:
        if state[1] in ("<", ">", "|", "="):
            target.order = state[1]
    elif isinstance(target, _NumpyArray) and isinstance(state, tuple) and len(state) >= 3:
        # ndarray.__setstate__((version, shape, dtype, is_fortran, raw data))
        shape, dtype = state[1], state[2]
        if isinstance(shape, tuple) and isinstance(dtype, _NumpyDtype):
            target.shape, target.dtype = shape, dtype


def _numpy_scalar(dtype: object, raw: object) -> object:
    # numpy.core.multiarray.scalar(dtype, bytes): e.g. a global_step saved as numpy.int64.
    if not isinstance(dtype, _NumpyDtype) or not isinstance(raw, bytes):
        return _Opaque("numpy scalar")
    known = NUMPY_DTYPES.get(dtype.code)
    order = ">" if dtype.order == ">" else "<"
    if known is None or len(raw) != struct.calcsize(order + known[0]):
        return _Opaque("numpy scalar")
    return struct.unpack(order + known[0], raw)[0]


def _rebuild_tensor(name: str, args: tuple) -> TensorInfo | None:
    short = name.rsplit(".", 1)[1]
    if short in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
        return args[0] if args and isinstance(args[0], TensorInfo) else None
    if short == "_rebuild_from_type_v2":
        if len(args) >= 3:
            inner = _call(args[0], args[2])
            return inner if isinstance(inner, TensorInfo) else None
        return None
    if short in ("_rebuild_device_tensor_from_numpy", "_rebuild_xla_tensor"):
        # (numpy array, torch dtype, device, requires_grad)
        data = args[0] if args else None
        if not isinstance(data, _NumpyArray) or data.dtype is None:
            return None
        known = NUMPY_DTYPES.get(data.dtype.code)
        dtype = _torch_dtype(args[1]) if len(args) > 1 else None
        dtype = dtype or (known[1] if known else None)
        shape = data.shape
    elif short == "_rebuild_device_tensor_from_cpu_tensor":
        # (cpu tensor, torch dtype, device, requires_grad)
        data = args[0] if args else None
        if not isinstance(data, TensorInfo):
            return None
        dtype = (_torch_dtype(args[1]) if len(args) > 1 else None) or data.dtype
        shape = data.shape
    elif short == "_rebuild_sparse_tensor":
        return _sparse_tensor(args[1] if len(args) > 1 else None)
    elif short in ("_rebuild_meta_tensor_no_storage", "_rebuild_wrapper_subclass"):
        # (dtype, size, ...) and (subclass, dtype, size, ...)
        at = 1 if short == "_rebuild_wrapper_subclass" else 0
        dtype = _torch_dtype(args[at]) if len(args) > at else None
        shape = args[at + 1] if len(args) > at + 1 else None
    else:  # _rebuild_tensor, _v2, _v3, _qtensor: (storage, offset, size, stride, ...[, dtype at 6])
        storage = args[0] if args else None
        if not isinstance(storage, _Storage) or len(args) < 3:
            return None
        dtype = _torch_dtype(args[6]) if short == "_rebuild_tensor_v3" and len(args) > 6 else None
        dtype = dtype or storage.dtype
        shape = args[2]
    if dtype is None or not _is_shape(shape):
        return None
    return TensorInfo(dtype, shape)


def _sparse_tensor(data: object) -> TensorInfo | None:
    # COO: (indices, values, size, ...); compressed layouts: (..., values, size): the values
    # tensor stands right before the dense size.
    if not isinstance(data, tuple):
        return None
    for values, size in itertools.pairwise(data):
        if isinstance(values, TensorInfo) and _is_shape(size):
            return TensorInfo(values.dtype, size)
    return None


def _is_shape(value: object) -> bool:
    return isinstance(value, tuple) and all(type(d) is int and 0 <= d < 2**63 for d in value)


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


def _describe(value: object) -> str:
    return value if isinstance(value, str) else f"<{_name_of(value)}>"


def _name_of(value: object) -> str:
    if isinstance(value, _Global | _Opaque):
        return value.name
    return type(value).__name__ if isinstance(value, int | float | str | bytes) else "object"


def _hashable(key: object) -> object:
    # Hashing a tuple recurses in C without a depth guard: a key nested a million deep
    # would crash the interpreter, so deep keys are refused before they are hashed.
    todo, depth = [key], 0
    while todo:
        depth += 1
        if depth > MAX_KEY_DEPTH:
            raise _Malformed("dict key nested too deep")
        todo = [item for node in todo if isinstance(node, tuple) for item in node]
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
    elif isinstance(root, list | tuple) or _module_children(root) is not None:
        tensors = _flatten(root, warnings)
    elif root is None:
        tensors = {}
    else:
        tensors = {}
        warnings.append(f"the pickle holds a {_name_of(root)} object, not a dict of tensors")
    return tensors, extras, warnings


def _flatten(root: object, warnings: list[str]) -> dict[str, TensorInfo]:
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
            children = list(node.items())
        elif isinstance(node, list | tuple):
            children = list(enumerate(node))
        elif (module_children := _module_children(node)) is not None:
            children = module_children
        else:
            continue
        budget -= len(children)
        if budget < 0:
            warnings.append("the pickle's structure is too large or self-referential; cut short")
            break
        for key, child in reversed(children):
            segment = _segment(key)
            if segment is not None and isinstance(child, _CONTAINERS):
                todo.append((f"{prefix}.{segment}" if prefix else segment, child, depth + 1))
    return tensors


_CONTAINERS = (TensorInfo, dict, list, tuple, _Opaque)


def _module_children(node: object) -> list[tuple[object, object]] | None:
    """A pickled ``torch.nn.Module``'s entries, named as its ``state_dict()`` would name them."""
    state = node.state if isinstance(node, _Opaque) else None
    if not isinstance(state, dict) or not isinstance(state.get("_parameters"), dict):
        return None
    children: list[tuple[object, object]] = []
    for part in ("_parameters", "_buffers", "_modules"):
        entries = state.get(part)
        if isinstance(entries, dict):
            children.extend(entries.items())
    return children


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

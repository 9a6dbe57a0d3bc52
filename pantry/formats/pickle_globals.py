"""Tables the pickle reader consults: which imports are harmless, and torch type names.

A pickle runs code by importing a callable (GLOBAL / STACK_GLOBAL / INST opcodes) and calling
it. The globals below only rebuild data: tensors, storages, dtypes, containers, and the few
objects real Stable Diffusion checkpoints carry (PyTorch Lightning training state, numpy
scalars). Anything else a file imports is reported in ``Header.unsafe_globals``; whether it
is malicious is for a person to decide, but loading it with ``torch.load(weights_only=False)``
would run it.
"""

from __future__ import annotations

# torch storage classes (legacy typed storages, as torch.save still names them) -> safetensors
# dtype name. ``torch.cuda.*Storage`` appear in old checkpoints saved from a GPU.
STORAGE_DTYPES: dict[str, str] = {
    "FloatStorage": "F32",
    "HalfStorage": "F16",
    "BFloat16Storage": "BF16",
    "DoubleStorage": "F64",
    "LongStorage": "I64",
    "IntStorage": "I32",
    "ShortStorage": "I16",
    "CharStorage": "I8",
    "ByteStorage": "U8",
    "BoolStorage": "BOOL",
    "ComplexFloatStorage": "C64",
    "QInt8Storage": "I8",
    "QUInt8Storage": "U8",
    "QInt32Storage": "I32",
}

# torch dtype objects (``torch.float16`` pickles as GLOBAL "torch float16") -> safetensors name.
TORCH_DTYPES: dict[str, str] = {
    "float32": "F32",
    "float": "F32",
    "float16": "F16",
    "half": "F16",
    "bfloat16": "BF16",
    "float64": "F64",
    "double": "F64",
    "int64": "I64",
    "long": "I64",
    "int32": "I32",
    "int": "I32",
    "int16": "I16",
    "short": "I16",
    "int8": "I8",
    "uint8": "U8",
    "uint16": "U16",
    "uint32": "U32",
    "uint64": "U64",
    "bool": "BOOL",
    "complex64": "C64",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
    "float8_e4m3fnuz": "F8_E4M3FNUZ",
    "float8_e5m2fnuz": "F8_E5M2FNUZ",
    "float8_e8m0fnu": "F8_E8M0",
}

# Functions torch.save uses to rebuild a tensor; the reader interprets their arguments.
TENSOR_REBUILDERS = frozenset(
    {
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_meta_tensor_no_storage",
        "torch._tensor._rebuild_from_type_v2",
    }
)

SAFE_GLOBALS = frozenset(
    {
        *TENSOR_REBUILDERS,
        *(f"torch.{name}" for name in STORAGE_DTYPES),
        *(f"torch.cuda.{name}" for name in STORAGE_DTYPES),
        *(f"torch.{name}" for name in TORCH_DTYPES),
        "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage",
        "torch.UntypedStorage",
        "torch.Size",
        "torch.device",
        "torch.Tensor",
        "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout",
        "torch.strided",
        "collections.OrderedDict",
        # Protocol 2 pickles store bytes through _codecs.encode; sets and slices are plain data.
        # (Python 2 names such as __builtin__.set are mapped to these before the check.)
        "_codecs.encode",
        "builtins.set",
        "builtins.frozenset",
        "builtins.slice",
        "builtins.bytearray",
        "builtins.complex",
        # numpy arrays and scalars: old checkpoints keep e.g. the best score as a numpy scalar.
        "numpy.dtype",
        "numpy.ndarray",
        "numpy.core.multiarray.scalar",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy._core.multiarray._reconstruct",
        # The original SD 1.x checkpoints carry PyTorch Lightning's checkpoint callback state;
        # rebuilding it sets attributes on an instance and runs no file-supplied code.
        "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
    }
)

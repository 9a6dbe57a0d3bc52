"""Tables the pickle reader consults: which imports are harmless, and torch type names.

A pickle runs code by importing a callable (GLOBAL / STACK_GLOBAL / INST opcodes) and calling
it. The globals below only rebuild data: tensors, storages, dtypes, containers, and the few
objects real Stable Diffusion checkpoints carry (PyTorch Lightning training state, numpy
scalars). Anything else a file imports is reported in ``Header.unsafe_globals``; whether it
is malicious is for a person to decide, but loading it with ``torch.load(weights_only=False)``
would run it.

How this list relates to the field's references:

- torch's own ``weights_only`` allowlist (``torch/_weights_only_unpickler.py``): everything
  here that names ``torch`` or ``collections`` is on it, and so are ``_codecs.encode``,
  ``builtins.set`` / ``bytearray`` / ``complex``.
- picklescan's "safe" table (OrderedDict, the storage classes, ``_rebuild_tensor_v2``,
  ``numpy.dtype`` / ``ndarray`` / ``_reconstruct``) is a subset of this one. What picklescan
  leaves unlisted it calls "suspicious"; pantry has no middle grade, so unlisted is unsafe.
  No name on picklescan's dangerous table is allowed here.
- AUTOMATIC1111's safe unpickler (``modules/safe.py``) also admits ``numpy...scalar``,
  ``torch.nn.modules.container.ParameterDict`` (textual inversion embeddings from the
  original textual_inversion code keep their vectors in one) and PyTorch Lightning's
  ``ModelCheckpoint`` (the SD 1.x release checkpoints pickle it as a dict key): so does pantry,
  since a checkpoint every user has must not read as a threat.
- Whole ``torch.nn`` modules (``Sequential``, ``Linear``, …) stay unsafe although torch's
  classes are harmless to build: such a file needs ``weights_only=False`` and usually names
  classes from the trainer's own code too.
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
        "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_sparse_tensor",
        "torch._utils._rebuild_wrapper_subclass",
        "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor",
        # Old name of _rebuild_device_tensor_from_numpy (tensors saved from TPUs).
        "torch._utils._rebuild_xla_tensor",
        "torch._tensor._rebuild_from_type_v2",
    }
)

# numpy's pickled forms: np.dtype("f4"), arrays through _reconstruct + BUILD, and scalars
# (np.int64(840000) pickles as scalar(dtype("i8"), raw bytes)). numpy 2 moved numpy.core to
# numpy._core; old files carry the old name.
NUMPY_DTYPE_GLOBALS = frozenset({"numpy.dtype"})
NUMPY_ARRAY_GLOBALS = frozenset(
    {"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"}
)
NUMPY_SCALAR_GLOBALS = frozenset({"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"})

# numpy type code -> (struct format of one value, safetensors dtype name).
NUMPY_DTYPES: dict[str, tuple[str, str]] = {
    "b1": ("?", "BOOL"),
    "u1": ("B", "U8"),
    "i1": ("b", "I8"),
    "u2": ("H", "U16"),
    "i2": ("h", "I16"),
    "u4": ("I", "U32"),
    "i4": ("i", "I32"),
    "u8": ("Q", "U64"),
    "i8": ("q", "I64"),
    "f2": ("e", "F16"),
    "f4": ("f", "F32"),
    "f8": ("d", "F64"),
}

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
        "torch.sparse_coo",
        "torch.sparse_csr",
        # Quantized tensors name their scheme.
        "torch.per_tensor_affine",
        "torch.per_tensor_symmetric",
        "torch.per_channel_affine",
        "torch.per_channel_symmetric",
        "torch.per_channel_affine_float_qparams",
        "collections.OrderedDict",
        "collections.Counter",
        # Protocol 2 pickles store bytes through _codecs.encode; sets and slices are plain data.
        # (Python 2 names such as __builtin__.set are mapped to these before the check.)
        "_codecs.encode",
        "builtins.set",
        "builtins.frozenset",
        "builtins.slice",
        "builtins.bytearray",
        "builtins.complex",
        # numpy arrays and scalars: old checkpoints keep e.g. the best score as a numpy scalar.
        "numpy.ndarray",
        *NUMPY_DTYPE_GLOBALS,
        *NUMPY_ARRAY_GLOBALS,
        *NUMPY_SCALAR_GLOBALS,
        # The original SD 1.x checkpoints carry PyTorch Lightning's checkpoint callback state
        # (the class as a dict key, or an instance); rebuilding it sets attributes and runs
        # no file-supplied code. Lightning 2 moved the module under lightning.pytorch.
        "pytorch_lightning.callbacks.model_checkpoint",
        "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
        "lightning.pytorch.callbacks.model_checkpoint.ModelCheckpoint",
        # A container of tensors: the original textual_inversion code saves embeddings in one.
        "torch.nn.modules.container.ParameterDict",
    }
)

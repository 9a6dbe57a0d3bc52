"""Turn operating-system errors met while opening model files into one-line reasons."""

from __future__ import annotations

import errno

_REASONS = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "symbolic link loop",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a parent of this path is not a directory",
    errno.ENAMETOOLONG: "path too long",
    errno.EIO: "input/output error (failing disk or network drive?)",
}


def os_error_reason(error: OSError) -> str:
    """A short, user-facing reason for ``error``, without the path (callers add it)."""
    if error.errno in _REASONS:
        return _REASONS[error.errno]
    return (error.strerror or str(error) or type(error).__name__).splitlines()[0]

"""Writing result tables: atomically, with the user's file mode, checked before solving.

A table is written to a hidden temporary file beside the target and renamed over it, so a
reader never sees a half-written file and a failed or interrupted write leaves nothing behind
(the command line turns SIGTERM into an exception for this). ``tempfile`` creates files with
mode 0600; the final file gets ``0666 & ~umask`` like any file the user's shell creates.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._errors import MOQInputError


def check_output_path(path: str) -> None:
    """Refuse, before any work is done, an output path that cannot be written."""
    if path == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise MOQInputError(f"--out {path}: is a directory; give a file name")
    parent = target.parent
    if not parent.is_dir():
        raise MOQInputError(f"--out {path}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MOQInputError(f"--out {path}: folder {str(parent)!r} is not writable")
    if target.exists() and not os.access(target, os.W_OK):
        raise MOQInputError(f"--out {path}: the file exists and is not writable")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str, frame) -> None:
    """Write ``frame`` as CSV to ``path`` atomically (see the module docstring)."""
    target = Path(path)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        frame.to_csv(tmp, index=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""The immutable archive: every arriving file's bytes, keyed by their SHA-256.

`<archive_dir>/<sha[:2]>/<sha><ext>` is written once (temp file + rename, then read-only) and
never changed; the same bytes arriving again reuse the same archive file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_path(archive_dir: Path, digest: str, extension: str) -> Path:
    ext = extension.lower() if extension and len(extension) <= 10 else ""
    return archive_dir / digest[:2] / f"{digest}{ext}"


def archive_bytes(data: bytes, digest: str, extension: str, archive_dir: Path) -> Path:
    """Store `data` under its hash (no-op when already there); returns the archive path."""
    target = archive_path(archive_dir, digest, extension)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

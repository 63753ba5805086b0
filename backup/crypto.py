"""Encryption of backups with age (https://age-encryption.org, through `pyrage`).

age is a small, standard file format: a backup file encrypted here is decrypted by the `age`
or `rage` command-line tools as well, with the same key, on any machine. Backups are
encrypted to *recipients* (public keys, `age1…`); the machine that makes them never holds
the secret key (`AGE-SECRET-KEY-1…`), which is needed only to restore.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import pyrage
from pyrage import x25519

SUFFIX = ".age"


class CryptoError(RuntimeError):
    """A key that cannot be read, or a file that cannot be decrypted with it."""


def recipients(keys: Iterable[str]) -> list:
    out = []
    for key in keys:
        try:
            out.append(x25519.Recipient.from_str(key.strip()))
        except Exception as exc:  # pyrage raises its own RecipientError
            raise CryptoError(f"khoá công khai age không hợp lệ: {key[:12]}… ({exc})") from None
    return out


def identities(path: Path | str) -> list:
    """The secret keys in an age identity file (lines `AGE-SECRET-KEY-…`, `#` comments)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CryptoError(f"không đọc được tệp khoá {path}: {exc.strerror}") from None
    keys = [line.strip() for line in text.splitlines() if line.strip().startswith("AGE-SECRET")]
    if not keys:
        raise CryptoError(f"{path} không chứa khoá bí mật age (AGE-SECRET-KEY-…)")
    try:
        return [x25519.Identity.from_str(k) for k in keys]
    except Exception as exc:
        raise CryptoError(f"khoá bí mật trong {path} không hợp lệ ({exc})") from None


def generate() -> tuple[str, str]:
    """(secret identity, public recipient) of a new key pair."""
    ident = x25519.Identity.generate()
    return str(ident), str(ident.to_public())


def encrypt_stream(reader: BinaryIO, out: Path, keys: list) -> None:
    with open(out, "wb") as fh:
        pyrage.encrypt_io(reader, fh, keys)


def encrypt_file(src: Path, dst: Path, keys: list) -> None:
    pyrage.encrypt_file(str(src), str(dst), keys)


def decrypt_file(src: Path, dst: Path, idents: list) -> None:
    try:
        pyrage.decrypt_file(str(src), str(dst), idents)
    except Exception as exc:
        Path(dst).unlink(missing_ok=True)
        raise CryptoError(f"không giải mã được {Path(src).name}: sai khoá hoặc tệp hỏng "
                          f"({type(exc).__name__})") from None


def write_identity(path: Path, identity: str, recipient: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"# public key: {recipient}\n{identity}\n")

"""Signed reports: an Ed25519 detached signature over a folder's manifest.json bytes.

`keygen` writes a private key (PEM, PKCS#8, unencrypted, mode 0600) and its
public key beside it (`KEY.pub`, PEM SubjectPublicKeyInfo); neither file is
ever overwritten. `sign` checks the folder against its manifest first (only an
intact folder is signed), then writes the 64 raw signature bytes as
`manifest.sig`, the one file besides manifest.json that the manifest does not
list. Since the manifest holds every other file's sha256, a valid signature
over it vouches for the whole folder. Everything is offline; the signature can
also be checked without this suite:

    openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in manifest.json -sigfile manifest.sig
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from audit_lib.errors import AuditError, OutputExistsError, UsageError
from audit_lib.findings.manifest import NAME, SIGNATURE, check_manifest


def keygen(out: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair: `out` (private, 0600) and `out`.pub; return both paths."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path, public_path = Path(out), Path(f"{out}.pub")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise OutputExistsError(f"{path}: exists; nothing is overwritten")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _create(private_path, private, 0o600)
    try:
        _create(public_path, public, 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return private_path, public_path


def sign(folder: Path, key: Path) -> Path:
    """Sign the intact report `folder` with the private key file `key`; return manifest.sig's path."""
    folder = Path(folder)
    private = _private_key(key)
    problems = check_manifest(folder)
    if problems:
        raise AuditError(f"{folder}: not intact, not signed: {problems[0]}")
    target = folder / SIGNATURE
    if target.exists() or target.is_symlink():
        raise OutputExistsError(f"{target}: exists; nothing is overwritten")
    _create(target, private.sign((folder / NAME).read_bytes()), 0o644)
    return target


def check_signature(folder: Path, key: Path) -> list[str]:
    """What is wrong with `folder`'s manifest.sig for the public key file `key`; empty when it holds."""
    from cryptography.exceptions import InvalidSignature

    public = _public_key(key)
    folder = Path(folder)
    signature = folder / SIGNATURE
    if not signature.is_file() or signature.is_symlink():
        return [f"{SIGNATURE}: missing (the report is not signed)"]
    try:
        public.verify(signature.read_bytes(), (folder / NAME).read_bytes())
    except InvalidSignature:
        return [
            f"{SIGNATURE}: does not match {NAME} for key {fingerprint(public)} "
            "(signed by another key, or manifest.json altered)"
        ]
    except OSError as exc:
        return [f"{NAME}: unreadable ({exc.strerror or exc})"]
    return []


def fingerprint(public_key) -> str:
    """The first 16 hex digits of the sha256 of the raw public key: how messages name a key."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def public_key_of(key: Path):
    """The public key in `key` (a public key file, or a private one)."""
    return _public_key(key)


def _private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = _read_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: not an Ed25519 key")
    return key


def _public_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = _read_key(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        key = _private_key(path).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path}: not an Ed25519 key")
    return key


def _read_key(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the key ({exc.strerror or exc})") from None


def _create(path: Path, data: bytes, mode: int) -> None:
    """Create `path` exclusively with `mode` (never over an existing file) and write `data`."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise OutputExistsError(f"{path}: exists; nothing is overwritten") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # the umask may have narrowed it; 0600 stays 0600

"""Secrets of the reference server: bearer tokens, runner key pairs and the master key.

- Tokens are 32 random bytes (256 bits), URL-safe base64, behind a short prefix that says what
  they are (``rk_`` API bearer token, ``rkx_`` runner exchange token, ``rkl_`` runner logs
  token). The store keeps only ``hash_token(token)``: SHA-256, hex. Tokens carry 256 bits of
  entropy, so a slow password hash would add nothing.
- Each runner gets an X25519 key pair (libsodium via PyNaCl). Secrets meant for the runner are
  sealed to its public key (``seal``); the private key is kept only wrapped by the server's
  master key (XSalsa20-Poly1305 ``SecretBox``).
- The master key is 32 bytes: ``RUNNERKIT_MASTER_KEY`` (base64) or a key file created with mode
  0600 on first start (``load_master_key``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

MASTER_KEY_ENV = "RUNNERKIT_MASTER_KEY"
MASTER_KEY_BYTES = SecretBox.KEY_SIZE

API_TOKEN_PREFIX = "rk_"  # noqa: S105 - a prefix, not a secret
EXCHANGE_TOKEN_PREFIX = "rkx_"  # noqa: S105 - a prefix, not a secret
LOGS_TOKEN_PREFIX = "rkl_"  # noqa: S105 - a prefix, not a secret


class MasterKeyError(ValueError):
    """The configured master key is not 32 bytes of base64."""


def new_token(prefix: str) -> str:
    """Make a fresh random token.

    Args:
        prefix: What the token is, e.g. ``API_TOKEN_PREFIX``.

    Returns:
        ``prefix`` followed by 256 random bits in URL-safe base64 without padding.
    """
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    """The form in which a token is stored and looked up.

    Args:
        token: A token as the client sends it.

    Returns:
        The SHA-256 of the token's UTF-8 bytes, as 64 hex digits.
    """
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class MasterKey:
    """The server's master key: wraps runner private keys and derives the page-token key."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != MASTER_KEY_BYTES:
            raise MasterKeyError(f"master key must be {MASTER_KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return "MasterKey(<redacted>)"

    def wrap(self, plaintext: bytes) -> bytes:
        """Encrypt and authenticate ``plaintext`` (nonce included in the result)."""
        return bytes(SecretBox(self.key).encrypt(plaintext))

    def unwrap(self, wrapped: bytes) -> bytes:
        """Reverse ``wrap``; raises ``nacl.exceptions.CryptoError`` when tampered with."""
        return SecretBox(self.key).decrypt(wrapped)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte subkey for ``purpose`` (keyed BLAKE2b), e.g. for HMAC page tokens."""
        return hashlib.blake2b(purpose.encode(), key=self.key, digest_size=32).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of ``data`` under ``key`` (``hmac.digest``: one C call, no HMAC object)."""
    return hmac.digest(key, data, "sha256")


def _create_key_file(key_file: Path) -> None:
    """Write a fresh key to a new file (mode 0600) atomically: a racing creator wins, we read."""
    fresh = base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)) + b"\n"
    staging = key_file.with_name(f".{key_file.name}.{secrets.token_hex(8)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, fresh)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(staging, key_file)  # fails if another process created the key meanwhile
    except FileExistsError:
        pass
    finally:
        staging.unlink()


def load_master_key(key_file: Path, environ: Mapping[str, str] | None = None) -> MasterKey:
    """The master key from ``RUNNERKIT_MASTER_KEY``, else from ``key_file`` (created if missing).

    Args:
        key_file: Where the key lives when the environment does not give one. Created with
            mode 0600 (32 random bytes, base64) when it does not exist.
        environ: Environment to read; defaults to ``os.environ``.

    Returns:
        The master key.

    Raises:
        MasterKeyError: The variable or file does not hold 32 bytes of base64.
    """
    env = os.environ if environ is None else environ
    encoded = env.get(MASTER_KEY_ENV)
    if encoded is None:
        if not key_file.exists():
            _create_key_file(key_file)
        encoded = key_file.read_text().strip()
    return decode_master_key(encoded)


def decode_master_key(encoded: str) -> MasterKey:
    """A master key from its base64 text (``RUNNERKIT_MASTER_KEY`` or a key file's content).

    Raises:
        MasterKeyError: Not 32 bytes of base64.
    """
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyError("master key is not valid base64") from exc
    return MasterKey(raw)


def create_master_key_file(key_file: Path) -> None:
    """Write a fresh master key to ``key_file`` (mode 0600) unless another process just did."""
    _create_key_file(key_file)


def verifier(master: MasterKey) -> str:
    """A value that identifies ``master`` without revealing it (stored in the database)."""
    return master.derive("runnerkit master key verifier v1").hex()


@dataclass(frozen=True)
class RunnerKeyPair:
    """A runner's X25519 public key and its private key wrapped by the master key."""

    public_key: bytes
    wrapped_private_key: bytes


def new_runner_key_pair(master: MasterKey) -> RunnerKeyPair:
    """Generate a runner key pair and wrap its private half.

    Args:
        master: The master key that wraps the private key.

    Returns:
        The 32-byte public key and the wrapped private key.
    """
    private = PrivateKey.generate()
    return RunnerKeyPair(
        public_key=bytes(private.public_key),
        wrapped_private_key=master.wrap(bytes(private)),
    )


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` so that only the holder of the matching private key can read it."""
    return bytes(SealedBox(PublicKey(public_key)).encrypt(plaintext))


def unseal(master: MasterKey, wrapped_private_key: bytes, sealed: bytes) -> bytes:
    """Open a sealed box with a runner's wrapped private key (tests and tooling use this)."""
    private = PrivateKey(master.unwrap(wrapped_private_key))
    return SealedBox(private).decrypt(sealed)


__all__ = [
    "API_TOKEN_PREFIX",
    "EXCHANGE_TOKEN_PREFIX",
    "LOGS_TOKEN_PREFIX",
    "MASTER_KEY_ENV",
    "MasterKey",
    "MasterKeyError",
    "RunnerKeyPair",
    "create_master_key_file",
    "decode_master_key",
    "hash_token",
    "hmac_sha256",
    "load_master_key",
    "new_runner_key_pair",
    "new_token",
    "seal",
    "unseal",
    "verifier",
]

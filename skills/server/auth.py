"""API keys for `skillstack serve`: where they come from, how they are checked, how one is made.

Keys come from `$SKILLSTACK_API_KEYS` (comma-separated, plain) and from HOME/api_keys, which holds
only SHA-256 hashes (`skillstack keys create` prints a new key once and stores its hash). A request's
`Authorization: Bearer <key>` is hashed and compared with every stored hash by hmac.compare_digest,
so the time taken says nothing about how much of a key matched. No key is ever logged or put in
an error. `require_key` is the FastAPI dependency every route but /health sits behind.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstack.errors import ConfigError
from skillstack.io import atomic_write_text
from skillstack.settings import Settings
from .errors import APIError

ENV_VAR = "SKILLSTACK_API_KEYS"
KEYS_FILE = "api_keys"
KEY_PREFIX = "sk-skillstack-"
_HASH_TAG = "sha256:"


def keys_path(settings: Settings) -> Path:
    return settings.home / KEYS_FILE


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(kw_only=True, frozen=True)
class StoredKey:
    """One line of the keys file: the key's hash, a name, when it was made."""

    digest: bytes
    name: str = ""
    created: int = 0

    def line(self) -> str:
        return f"{_HASH_TAG}{self.digest.hex()} {self.created} {self.name}".rstrip()


def read_keys_file(path: Path) -> list[StoredKey]:
    """The hashes in path (blank lines and # comments skipped); ConfigError naming the line of a bad one."""
    if not path.exists():
        return []
    keys = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(maxsplit=2)
        value = fields[0]
        try:
            if not value.startswith(_HASH_TAG):
                raise ValueError
            digest = bytes.fromhex(value[len(_HASH_TAG):])
            if len(digest) != 32:
                raise ValueError
            created = int(fields[1]) if len(fields) > 1 else 0
        except ValueError:
            # The line is not echoed: someone may have pasted a plain key here.
            raise ConfigError(f"{path}:{number}: not a '{_HASH_TAG}<64 hex digits> [created] [name]' line; "
                              "the keys file holds only hashes (use `skillstack keys create`)") from None
        keys.append(StoredKey(digest=digest, created=created, name=fields[2] if len(fields) > 2 else ""))
    return keys


class KeyRing:
    """The hashes of every accepted key; empty means no key is configured."""

    def __init__(self, digests: list[bytes]) -> None:
        self._digests = list(dict.fromkeys(digests))

    @classmethod
    def of(cls, keys: list[str]) -> KeyRing:
        """A ring of plain keys (an embedding application's own, or tests')."""
        return cls([_digest(k) for k in keys])

    @classmethod
    def load(cls, settings: Settings) -> KeyRing:
        """$SKILLSTACK_API_KEYS and the hashes in HOME/api_keys."""
        plain = [k.strip() for k in os.environ.get(ENV_VAR, "").split(",") if k.strip()]
        return cls(cls.of(plain)._digests + [k.digest for k in read_keys_file(keys_path(settings))])

    def __len__(self) -> int:
        return len(self._digests)

    def accepts(self, key: str) -> bool:
        """True when key is one of ours; every stored hash is compared, in constant time each."""
        presented = _digest(key)
        matched = False
        for digest in self._digests:
            matched |= hmac.compare_digest(presented, digest)
        return matched


def create_key(settings: Settings, *, name: str = "") -> str:
    """A new random key; its hash is appended to HOME/api_keys (atomically) and the key returned, once."""
    if any(c.isspace() for c in name):
        raise ConfigError(f"key name {name!r} must not contain spaces")
    path = keys_path(settings)
    existing = read_keys_file(path)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    stored = existing + [StoredKey(digest=_digest(key), name=name, created=int(time.time()))]
    atomic_write_text(path, "# skillstack API key hashes (sha256); create with `skillstack keys create`\n"
                      + "".join(k.line() + "\n" for k in stored))
    os.chmod(path, 0o600)
    return key


def require_key(keys: KeyRing | None) -> Any:
    """The FastAPI dependency checking `Authorization: Bearer <key>`; keys=None turns auth off (--no-auth)."""
    from fastapi import Depends
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

    bearer = HTTPBearer(auto_error=False, description="An API key from `skillstack keys create` or $SKILLSTACK_API_KEYS.")

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if keys is None:
            return
        if credentials is None:
            raise APIError(401, "You didn't provide an API key. Pass it as 'Authorization: Bearer <key>' "
                                "(create one with `skillstack keys create`).", code="invalid_api_key")
        if not keys.accepts(credentials.credentials):
            raise APIError(401, "Incorrect API key provided.", code="invalid_api_key")

    return Depends(check)

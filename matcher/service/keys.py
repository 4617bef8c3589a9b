"""API keys: made with `secrets`, kept as a SHA-256 hash only, compared in constant time.

A key reads `mk.<key id>.<secret>`: the key id finds the tenant's row, the secret's hash is
compared with `hmac.compare_digest`. The secret itself is shown once, when the key is made, and
never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from matcher.service.storage import Storage, Tenant

KEY_PREFIX = "mk"
TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A tenant id: letters, digits, `_`, `.` and `-`, at most 64 characters."""


def secret_hash(secret: str) -> str:
    """The SHA-256 of a key's secret, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    """A key just made: the tenant and the key to hand over (shown once)."""

    tenant: str
    key: str


def add_key(storage: Storage, tenant_id: str) -> NewKey:
    """Make a tenant with a fresh key; ValueError for a bad or taken tenant id."""
    if not TENANT_ID.match(tenant_id):
        raise ValueError(
            f"tenant {tenant_id!r}: letters, digits, '_', '.' and '-', at most 64 characters"
        )
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    storage.add_tenant(
        Tenant(
            id=tenant_id,
            key_id=key_id,
            key_hash=secret_hash(secret),
            created_s=time.time(),
            revoked=False,
        )
    )
    return NewKey(tenant=tenant_id, key=f"{KEY_PREFIX}.{key_id}.{secret}")


def tenant_of_key(storage: Storage, key: str) -> Tenant | None:
    """The tenant of a valid, unrevoked key, else None."""
    parts = key.split(".", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    tenant = storage.tenant_by_key_id(parts[1])
    if tenant is None:
        return None
    matches = hmac.compare_digest(tenant.key_hash, secret_hash(parts[2]))
    if not matches or tenant.revoked:
        return None
    return tenant


__all__ = ["KEY_PREFIX", "NewKey", "add_key", "secret_hash", "tenant_of_key"]

"""PostgreSQL session-level advisory locks: one name, one holder among every node's processes (docs/adr/0007)."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Yields whether this process holds the lock `name` (session level, released on leaving). Never waits.
    On SQLite (one machine) it is always held."""
    if connection.vendor != "postgresql":
        yield True
        return
    if connection.in_atomic_block:
        raise RuntimeError("an advisory lock of periodic work is taken outside any transaction")
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])

"""The test database between tests, quicker than Django's flush and the demo loader, with the same result.

After each transactional test Django empties every table (PostgreSQL: one TRUNCATE of ~170 tables, 0.7 s) and
sends post_migrate, which writes the content types, permissions and the default site again (0.25 s); most tests
then load the demo shop (0.6 s of Wagtail page publishing). Here:

- `empty()` deletes the rows of every table but the three post_migrate fills, and only when those still hold what
  it made (their fingerprint is unchanged), so sending post_migrate again would write nothing; otherwise the caller
  falls back to Django's flush.
- `load_demo()` on a database whose tables are all empty copies in the rows the first `load_demo` wrote in this
  database (kept in snapshot tables beside the models' tables); on any other database it runs the loader itself.
"""

from django.core.cache import cache
from django.db import DatabaseError, connections, transaction

from portal.demo.shop import load_demo as write_demo

FILLED_BY_POST_MIGRATE = ("django_content_type", "auth_permission", "django_site")
SNAPSHOT_PREFIX = "zz_test_snapshot_"


class _State:
    def __init__(self):
        self.filled = None  # the fingerprint of FILLED_BY_POST_MIGRATE after the last full flush
        self.snapshot = None  # (fingerprint, [(table, snapshot table)]) of the demo's rows
        self.filled_tables = None  # those of FILLED_BY_POST_MIGRATE this project installs
        self.superuser = None  # whether the PostgreSQL user may take the replica role


_states: dict[str, _State] = {}


def _state(alias: str) -> _State:
    return _states.setdefault(alias, _State())


def _tables(connection) -> list[str]:
    return sorted(t for t in connection.introspection.django_table_names(only_existing=True, include_views=False)
                  if t not in FILLED_BY_POST_MIGRATE)


def _filled_tables(connection) -> list[str]:
    state = _state(connection.alias)
    if state.filled_tables is None:
        existing = connection.introspection.table_names()
        state.filled_tables = [t for t in FILLED_BY_POST_MIGRATE if t in existing]
    return state.filled_tables


def _fingerprint(connection) -> tuple:
    quote = connection.ops.quote_name
    filled = _filled_tables(connection)
    parts = ", ".join(f"(SELECT count(*) FROM {quote(t)}), (SELECT max(id) FROM {quote(t)})" for t in filled)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {parts}")
        return tuple(cursor.fetchone())


def _non_empty(connection, tables: list[str]) -> list[str]:
    quote = connection.ops.quote_name
    found = []
    with connection.cursor() as cursor:
        for start in range(0, len(tables), 100):
            chunk = tables[start:start + 100]
            cursor.execute(" UNION ALL ".join(
                f"SELECT {i} FROM (SELECT 1 FROM {quote(t)} LIMIT 1) AS t{i}" for i, t in enumerate(chunk)))
            found += [chunk[row[0]] for row in cursor.fetchall()]
    return found


def _without_checks(cursor, connection) -> None:
    """Within the current transaction, rows go in and out in any order and the ledgers' append-only triggers stay
    quiet (PostgreSQL: replica role, which needs a superuser; SQLite checks foreign keys only at commit)."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL session_replication_role = replica")


def after_full_flush(alias: str) -> None:
    """Django's flush ran: remember what post_migrate wrote; the demo's snapshot refers to the old rows' ids."""
    connection = connections[alias]
    state = _state(alias)
    state.filled = _fingerprint(connection)
    state.snapshot = None


def empty(alias: str) -> bool:
    """Delete every row but post_migrate's own, as Django's flush would leave the database; False when only the
    full flush will do (the first time, a PostgreSQL user who is not a superuser, post_migrate's tables changed)."""
    connection = connections[alias]
    state = _state(alias)
    if connection.vendor not in ("postgresql", "sqlite") or state.filled is None:
        return False
    if connection.vendor == "postgresql":
        if state.superuser is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                state.superuser = cursor.fetchone()[0]
        if not state.superuser:
            return False
    if _fingerprint(connection) != state.filled:
        return False
    quote = connection.ops.quote_name
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        _without_checks(cursor, connection)
        for table in _non_empty(connection, _tables(connection)):
            cursor.execute(f"DELETE FROM {quote(table)}")
    return True


def load_demo(alias: str = "default") -> None:
    """The demo shop: copied from the rows `portal.demo.shop.load_demo` wrote the first time when every table is
    empty and post_migrate's rows are the same, written by it otherwise (its result is the same either way)."""
    connection = connections[alias]
    state = _state(alias)
    tables = _tables(connection)
    if connection.vendor not in ("postgresql", "sqlite") or _non_empty(connection, tables):
        write_demo()
        return
    fingerprint = _fingerprint(connection)
    if state.snapshot is not None and state.snapshot[0] == fingerprint and _restore(connection, state.snapshot[1]):
        cache.clear()  # what the loader's saves would have told Wagtail's caches (the site's root paths)
        return
    write_demo()
    state.snapshot = (fingerprint, _take(connection, tables))


def _filled_by_triggers(connection) -> set[str]:
    """SQLite's full-text tables, which its triggers fill as the rows of their model's table go in (PostgreSQL's
    triggers stay quiet while the rows are copied in)."""
    if connection.vendor != "sqlite":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")
        return {row[0] for row in cursor.fetchall()}


def _take(connection, tables: list[str]) -> list[tuple[str, str]]:
    quote = connection.ops.quote_name
    copies = []
    by_triggers = _filled_by_triggers(connection)
    with connection.cursor() as cursor:
        for table in _non_empty(connection, [t for t in tables if t not in by_triggers]):
            copy = f"{SNAPSHOT_PREFIX}{len(copies)}"
            cursor.execute(f"DROP TABLE IF EXISTS {quote(copy)}")
            cursor.execute(f"CREATE TABLE {quote(copy)} AS SELECT * FROM {quote(table)}")
            copies.append((table, copy))
    return copies


def _restore(connection, copies: list[tuple[str, str]]) -> bool:
    quote = connection.ops.quote_name
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            _without_checks(cursor, connection)
            for table, copy in copies:
                cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {quote(copy)}")
    except DatabaseError:
        return False
    return True

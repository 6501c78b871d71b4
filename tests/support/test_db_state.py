"""The quick reset between tests leaves what Django's flush and the demo loader leave."""

import pytest
from django.core.management import call_command
from django.db import connection

from portal.demo.shop import load_demo as write_demo
from tests.support import db_state

pytestmark = pytest.mark.django_db(transaction=True)


def _rows() -> dict[str, list]:
    """Every model table's rows, ordered."""
    quote = connection.ops.quote_name
    found = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.django_table_names(only_existing=True)):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            found[table] = sorted(repr(row) for row in cursor.fetchall())
    return found


def _flush() -> None:
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, allow_cascade=False,
                 inhibit_post_migrate=False)


def test_the_quick_flush_leaves_what_djangos_leaves():
    db_state._state("default").filled = None  # so that this flush is Django's own, whatever ran before
    _flush()
    after_django = _rows()
    write_demo()
    assert db_state.empty("default")
    assert _rows() == after_django
    assert all(not rows for table, rows in after_django.items() if table not in db_state.FILLED_BY_POST_MIGRATE)


def test_the_quick_flush_gives_way_when_post_migrates_rows_changed():
    _flush()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM auth_permission WHERE id = (SELECT max(id) FROM auth_permission)")
    assert not db_state.empty("default")


def test_the_demo_copied_in_is_the_demo_written():
    _flush()
    db_state._state("default").snapshot = None
    db_state.load_demo()  # written, and its rows kept
    written = _rows()
    _flush()
    kept = db_state._state("default").snapshot
    db_state.load_demo()  # copied in
    assert db_state._state("default").snapshot is kept
    assert _rows() == written
    db_state.load_demo()  # on a database that is not empty: the loader itself, which changes nothing here
    assert _rows() == written

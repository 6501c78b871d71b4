"""On PostgreSQL, an index on 주문번호 in byte order (COLLATE "C"), where the day's highest number is read as a range
(portal/numbering.py) at every placement: a prefix is a range only in byte order, and the unique index follows the
database's collation (on SQLite the unique index is in byte order already)."""

from django.db import migrations

CREATE = 'CREATE INDEX IF NOT EXISTS order_number_c_idx ON orders_order (number COLLATE "C")'
DROP = "DROP INDEX IF EXISTS order_number_c_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_state_change_row_base")]
    operations = [migrations.RunPython(forwards, backwards)]

"""On PostgreSQL the database itself refuses UPDATE and DELETE of the order and payment state-change rows (a trigger per table,
core.append_only.refuse_update_delete); a no-op on SQLite."""

from django.db import migrations

from core.append_only import refuse_update_delete


class Migration(migrations.Migration):

    dependencies = [("orders", "0012_order_carrier")]

    operations = [refuse_update_delete("orders_orderstatuschange", "orders_paymentstatechange")]

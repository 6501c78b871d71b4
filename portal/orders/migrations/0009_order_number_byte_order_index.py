"""On PostgreSQL, an index on 주문번호 in byte order (COLLATE "C"), from which the day's highest number is read as a range
at every placement (portal/numbering.py)."""

from django.db import migrations

from portal.numbering import byte_order_index


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_state_change_row_base")]
    operations = [byte_order_index(table="orders_order", name="order_number_c_idx")]

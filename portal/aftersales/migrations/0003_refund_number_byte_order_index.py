"""On PostgreSQL, an index on 환불정보 numbers in byte order (COLLATE "C"), from which the day's highest number is read as
a range at every refund (portal/numbering.py)."""

from django.db import migrations

from portal.numbering import byte_order_index


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0002_returnrequest_refund_terms_labels")]
    operations = [byte_order_index(table="aftersales_refund", name="refund_number_c_idx")]

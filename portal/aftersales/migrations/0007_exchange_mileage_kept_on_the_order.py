"""An order's 네이버 마일리지 사용 stays what the order used; what an exchange gave back of it is the exchange's
(mileage_returned_won). Orders exchanged before had it taken off their use: given back to the figure here."""

from django.db import migrations
from django.db.models import Sum


def _shift(apps, sign: int) -> None:
    Exchange = apps.get_model("aftersales", "Exchange")
    Order = apps.get_model("orders", "Order")
    returned = (Exchange.objects.filter(mileage_returned_won__gt=0).values("order_id")
                .annotate(total=Sum("mileage_returned_won")))
    for row in returned:
        order = Order.objects.get(pk=row["order_id"])
        order.mileage_use_won += sign * row["total"]
        order.save(update_fields=["mileage_use_won"])


def restore(apps, schema_editor):
    _shift(apps, +1)


def take_off(apps, schema_editor):
    _shift(apps, -1)


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0006_refund_cash_reason"),
        ("orders", "0019_order_submission_key"),
    ]

    operations = [migrations.RunPython(restore, take_off)]

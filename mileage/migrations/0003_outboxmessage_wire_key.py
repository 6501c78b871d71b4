import uuid

from django.db import migrations, models


def fill_wire_keys(apps, schema_editor):
    OutboxMessage = apps.get_model("mileage", "OutboxMessage")
    for message in OutboxMessage.objects.filter(wire_key=""):
        message.wire_key = f"{message.idempotency_key}:{uuid.uuid4().hex[:16]}"
        message.save(update_fields=["wire_key"])


class Migration(migrations.Migration):
    dependencies = [("mileage", "0002_operatornotice")]

    operations = [
        migrations.AddField(model_name="outboxmessage", name="wire_key",
                            field=models.CharField(default="", max_length=140), preserve_default=False),
        migrations.RunPython(fill_wire_keys, migrations.RunPython.noop),
        migrations.AlterField(model_name="outboxmessage", name="wire_key",
                              field=models.CharField(max_length=140, unique=True)),
    ]

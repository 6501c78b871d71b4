"""The change history of the mileage settings kept half of each hash key (django-auditlog's default mask); the
entries already written are masked again as new ones are (core.log_redaction.mask_secret: the last four
characters)."""

from django.db import migrations


def mask_again(apps, schema_editor):
    from core.log_redaction import mask_secret

    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    content_type = ContentType.objects.filter(app_label="mileage", model="mileagesettings").first()
    if content_type is None:
        return
    for entry in LogEntry.objects.filter(content_type=content_type):
        changes = entry.changes if isinstance(entry.changes, dict) else None
        if not changes or "hash_key" not in changes:
            continue
        changes["hash_key"] = [mask_secret(str(value).lstrip("*")) for value in changes["hash_key"]]
        entry.changes = changes
        entry.changes_text = ""
        entry.save(update_fields=["changes", "changes_text"])


class Migration(migrations.Migration):

    dependencies = [("mileage", "0013_ledgers_refuse_update_delete"), ("auditlog", "0017_add_actor_email"),
                    ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(mask_again, migrations.RunPython.noop)]

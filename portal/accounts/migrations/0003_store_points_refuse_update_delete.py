"""On PostgreSQL the database itself refuses UPDATE and DELETE of the store-point ledger (a trigger per table,
core.append_only.refuse_update_delete); a no-op on SQLite."""

from django.db import migrations

from core.append_only import refuse_update_delete


class Migration(migrations.Migration):

    dependencies = [("accounts", "0002_initial")]

    operations = [refuse_update_delete("accounts_storepointentry")]

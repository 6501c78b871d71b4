"""On PostgreSQL the database itself refuses UPDATE and DELETE of the mileage ledgers: events, state changes and settlement lines (a trigger per table,
core.append_only.refuse_update_delete); a no-op on SQLite."""

from django.db import migrations

from core.append_only import refuse_update_delete


class Migration(migrations.Migration):

    dependencies = [("mileage", "0012_held_state_named")]

    operations = [refuse_update_delete("mileage_mileageevent", "mileage_mileagestatechange", "mileage_settlementline")]

"""Rows that are written once and never edited or deleted: a reversal is a new row (ADR 0002)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import ChoiceLabels


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """A ledger's querysets: rows are added (one by one or in bulk) and read, never updated or deleted in bulk."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    update.queryset_only = True
    delete.queryset_only = True


class AppendOnlyModel(ChoiceLabels, models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        kwargs["force_insert"] = True
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class StateChangeRow(AppendOnlyModel):
    """The shape every "moved from … to …" row shares (an order's status, a mileage transaction's state): who, when,
    why. Subclasses add what moved and its from/to fields with their own choices."""

    note = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["changed_at", "id"]


# --- the database's own guard (PostgreSQL) ----------------------------------------------------------------------------
# The querysets above refuse bulk writes made through Django; a trigger refuses every UPDATE and DELETE of a pure
# ledger's rows, whoever writes them (raw SQL, a cascade, another program). TRUNCATE (a test database's flush) is
# not refused. SQLite has no such trigger: its test flush deletes rows one by one.

TRIGGER_FUNCTION = "core_append_only_refuse"
CREATE_FUNCTION = f"""CREATE OR REPLACE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END $$"""


def trigger_name(table: str) -> str:
    return f"{table}_append_only"


def refuse_update_delete(*tables: str):
    """A migration operation: on PostgreSQL, a trigger on each table refusing UPDATE and DELETE (a no-op elsewhere).
    A data migration that must rewrite a ledger's rows disables the trigger for its statement
    (`ALTER TABLE … DISABLE TRIGGER <table>_append_only`, then ENABLE) and says why."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(CREATE_FUNCTION, params=None)  # its % are PL/pgSQL's, not placeholders
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table)} ON {table}")
            schema_editor.execute(f"CREATE TRIGGER {trigger_name(table)} BEFORE UPDATE OR DELETE ON {table} "
                                  f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER_FUNCTION}()")

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table)} ON {table}")

    return migrations.RunPython(forwards, backwards, elidable=False)

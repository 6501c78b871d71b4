"""The dashboard's settlement sums (console.SettlementMonthTotal), kept by triggers on mileage_settlementline and
filled once from the lines already there."""

from django.db import migrations, models

TABLE = "console_settlementmonthtotal"

SQLITE = [
    f"""CREATE TRIGGER console_settlement_total_insert AFTER INSERT ON mileage_settlementline BEGIN
        INSERT INTO {TABLE} (month, kind, total_won, negative_won, lines)
        VALUES (NEW.month, NEW.kind, NEW.amount_won, MIN(NEW.amount_won, 0), 1)
        ON CONFLICT (month, kind) DO UPDATE SET total_won = total_won + excluded.total_won,
            negative_won = negative_won + excluded.negative_won, lines = lines + 1;
    END""",
    f"""CREATE TRIGGER console_settlement_total_delete AFTER DELETE ON mileage_settlementline BEGIN
        UPDATE {TABLE} SET total_won = total_won - OLD.amount_won, negative_won = negative_won - MIN(OLD.amount_won, 0),
            lines = lines - 1 WHERE month = OLD.month AND kind = OLD.kind;
    END""",
    f"""CREATE TRIGGER console_settlement_total_update AFTER UPDATE OF month, kind, amount_won ON mileage_settlementline
    BEGIN
        UPDATE {TABLE} SET total_won = total_won - OLD.amount_won, negative_won = negative_won - MIN(OLD.amount_won, 0),
            lines = lines - 1 WHERE month = OLD.month AND kind = OLD.kind;
        INSERT INTO {TABLE} (month, kind, total_won, negative_won, lines)
        VALUES (NEW.month, NEW.kind, NEW.amount_won, MIN(NEW.amount_won, 0), 1)
        ON CONFLICT (month, kind) DO UPDATE SET total_won = total_won + excluded.total_won,
            negative_won = negative_won + excluded.negative_won, lines = lines + 1;
    END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS console_settlement_total_insert",
               "DROP TRIGGER IF EXISTS console_settlement_total_delete",
               "DROP TRIGGER IF EXISTS console_settlement_total_update"]

POSTGRESQL = [
    f"""CREATE FUNCTION console_settlement_total() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE {TABLE} SET total_won = total_won - OLD.amount_won,
                negative_won = negative_won - LEAST(OLD.amount_won, 0), lines = lines - 1
            WHERE month = OLD.month AND kind = OLD.kind;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO {TABLE} (month, kind, total_won, negative_won, lines)
            VALUES (NEW.month, NEW.kind, NEW.amount_won, LEAST(NEW.amount_won, 0), 1)
            ON CONFLICT (month, kind) DO UPDATE SET total_won = {TABLE}.total_won + EXCLUDED.total_won,
                negative_won = {TABLE}.negative_won + EXCLUDED.negative_won, lines = {TABLE}.lines + 1;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER console_settlement_total AFTER INSERT OR DELETE OR UPDATE OF month, kind, amount_won
        ON mileage_settlementline FOR EACH ROW EXECUTE FUNCTION console_settlement_total()""",
    # TRUNCATE empties the sums with the lines (a test database's flush does).
    f"""CREATE FUNCTION console_settlement_total_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM {TABLE};
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER console_settlement_total_truncate AFTER TRUNCATE ON mileage_settlementline
        FOR EACH STATEMENT EXECUTE FUNCTION console_settlement_total_truncate()""",
]
POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS console_settlement_total ON mileage_settlementline",
                   "DROP TRIGGER IF EXISTS console_settlement_total_truncate ON mileage_settlementline",
                   "DROP FUNCTION IF EXISTS console_settlement_total()",
                   "DROP FUNCTION IF EXISTS console_settlement_total_truncate()"]

BACKFILL = f"""INSERT INTO {TABLE} (month, kind, total_won, negative_won, lines)
    SELECT month, kind, SUM(amount_won), SUM(CASE WHEN amount_won < 0 THEN amount_won ELSE 0 END), COUNT(*)
    FROM mileage_settlementline GROUP BY month, kind"""


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(connection.vendor)
    if statements is None:
        raise NotImplementedError(f"the settlement sums need triggers for {connection.vendor}")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(BACKFILL)


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(connection.vendor, []):
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("console", "0001_receipt_batch"),
        ("mileage", "0004_mileagetransaction_earn_granted_and_more"),  # mileage_settlementline
    ]

    operations = [
        migrations.CreateModel(
            name="SettlementMonthTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.CharField(max_length=7)),
                ("kind", models.CharField(max_length=4)),
                ("total_won", models.BigIntegerField(default=0)),
                ("negative_won", models.BigIntegerField(default=0)),
                ("lines", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("month", "kind"),
                                                        name="settlement_month_total_unique")],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]

"""Indexes for the dashboard's 운영 지표 card (portal/ops/metrics.py: ops_summary) on the mileage ledger.

The card reads the provider's latency from the last hour's events that carry a provider time and the refused
approvals of the last 24 hours; without these partial indexes both read the whole ledger (a million events at shop
scale). They live with the dashboard that needs them; the mileage models do not list them, so no mileage migration
touches them.
"""

from django.db import migrations

INDEXES = [
    ("console_mevent_timed_idx", "mileage_mileageevent (created_at) WHERE provider_ms IS NOT NULL"),
    ("console_mstate_failed_idx", "mileage_mileagestatechange (changed_at) WHERE to_state = 'failed'"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("console", "0002_settlement_month_total"),
        ("mileage", "0005_transaction_owner"),  # mileage_mileageevent.provider_ms, mileage_mileagestatechange
    ]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {target}", f"DROP INDEX IF EXISTS {name}")
        for name, target in INDEXES
    ]

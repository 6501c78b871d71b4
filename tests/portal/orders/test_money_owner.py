"""One owner of the shop's money records (ADR 0012): no module but portal/orders/money.py writes a Payment, a
PaymentCancel or their PaymentStateChange rows, and none but it (and the checkout's charge) reaches the gateway —
import-linter keeps the second, this test the first, by reading the source."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OWNER = ROOT / "portal" / "orders" / "money.py"
WRITES = re.compile(
    r"\b(Payment|PaymentCancel|PaymentStateChange)\.objects\b[^\n]*\.(create|bulk_create|update|get_or_create|"
    r"update_or_create|delete)\(|\b(Payment|PaymentCancel|PaymentStateChange)\(\s*[a-z_]+=")
STATUS_SETS = re.compile(r"\.status\s*=\s*Payment(Cancel)?Status\.")


def sources():
    for folder in ("portal", "mileage", "cms_pages", "core"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts and path != OWNER:
                yield path


def test_only_the_owner_writes_payments_and_their_cancels():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in sources() for number, line in enumerate(path.read_text().splitlines(), 1)
             if WRITES.search(line) or STATUS_SETS.search(line)]
    assert found == []


def test_the_check_finds_a_write_where_one_is_added():
    # the check itself can fail: the writes the old code made are caught
    assert WRITES.search("Payment.objects.filter(order=order).update(status=PaymentStatus.CANCELLED)")
    assert WRITES.search("        Payment.objects.create(order=order, method=m, amount_won=1)")
    assert STATUS_SETS.search("payment.status = PaymentStatus.APPROVED")
    assert not WRITES.search("Payment.objects.filter(order=order).first()")

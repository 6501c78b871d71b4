"""적립금 moves once per idempotency key, whoever asks and however often: two calls with one key at the same
moment (two operators' presses reaching the same payout) give back one entry and move the points once — threaded,
on PostgreSQL; asked again later, the entry is returned and nothing moves."""

import pytest
from django.conf import settings

from portal.accounts.models import Member, StorePointEntry
from portal.accounts.services import store_points_change
from tests.factories import MemberFactory
from tests.support.concurrency import at_once

on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="two connections at once need PostgreSQL")


@pytest.mark.django_db
def test_the_same_key_again_returns_the_entry_and_moves_nothing():
    member = MemberFactory(store_points_won=1_000)
    first = store_points_change(member=member, delta_won=300, reason="적립금환불", idempotency_key="refund:R1:points")
    again = store_points_change(member=member, delta_won=300, reason="적립금환불", idempotency_key="refund:R1:points")
    assert again.pk == first.pk and member.store_points_won == 1_300
    assert Member.objects.get(pk=member.pk).store_points_won == 1_300


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_one_key_asked_twice_at_once_moves_the_points_once_and_answers_both():
    for round_ in range(5):
        member = MemberFactory(store_points_won=1_000)
        key = f"refund:R{round_}:points"

        def give(member_id=member.pk, key=key):
            return store_points_change(member=Member.objects.get(pk=member_id), delta_won=300, reason="적립금환불",
                                       idempotency_key=key).pk

        first, second = at_once(give, give)
        assert first == second == StorePointEntry.objects.get(idempotency_key=key).pk
        assert Member.objects.get(pk=member.pk).store_points_won == 1_300


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_orders_of_one_member_spending_points_at_once_both_go_through():
    """Each checkout inserts its order and then spends 적립금 under the member's lock, both in one transaction: the
    second waits for the first (the order's foreign key is checked at commit, so neither holds the member's row
    before its lock — no deadlock), and the points move twice."""
    import threading

    from django.db import transaction

    from tests.factories import ProductFactory, order_for

    product = ProductFactory(price_won=5_000)
    member = MemberFactory(store_points_won=1_000)
    both_inserted = threading.Barrier(2, timeout=20)

    def checkout(n):
        with transaction.atomic():
            order = order_for([(product, 1)], member=member, number=f"20261207-{n:07d}")
            both_inserted.wait()
            store_points_change(member=Member.objects.get(pk=member.pk), delta_won=-300, reason="주문 사용",
                                idempotency_key=f"order:{order.number}:points", order=order)
        return order.number

    assert len(set(at_once(lambda: checkout(1), lambda: checkout(2)))) == 2
    assert Member.objects.get(pk=member.pk).store_points_won == 400

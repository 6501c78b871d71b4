"""Finding 5: receipts come only from permission-checked views, out of private storage; nothing under /media/."""

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from portal.orders.models import Order
from portal.receipts import render
from tests.factories import MemberFactory, ProductFactory, order_for, paid_order_for
from tests.support.db_state import load_demo


@pytest.fixture
def folders(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RECEIPTS_ROOT = tmp_path / "private"
    return tmp_path


@pytest.mark.django_db
def test_receipt_views_check_who_asks_and_cache_privately(folders):
    # given a member's order and a guest's order
    load_demo()
    owner = MemberFactory()
    mine = order_for([(ProductFactory(), 1)], member=owner)
    guest = order_for([(ProductFactory(), 1)])
    guest.set_guest_password("abcd1234")
    guest.save()
    # when the owner, a stranger, the guest after lookup and an operator ask for receipts
    member_client, stranger, guest_client, operator = Client(), Client(), Client(), Client()
    member_client.force_login(owner.user)
    stranger.force_login(MemberFactory().user)
    operator.force_login(User.objects.get(username="operator"))
    assert member_client.get(f"/shop/orders/{mine.number}/receipt.pdf").status_code == 200
    assert stranger.get(f"/shop/orders/{mine.number}/receipt.pdf").status_code == 404
    assert Client().get(f"/shop/orders/{guest.number}/receipt.pdf").status_code == 404
    assert guest_client.get(f"/shop/orders/{guest.number}/receipt.pdf").status_code == 404
    guest_client.post("/shop/guest/", {"number": guest.number, "password": "abcd1234"})
    assert guest_client.get(f"/shop/orders/{guest.number}/receipt.pdf").status_code == 200
    assert operator.get(f"/console/orders/{guest.number}/receipt.pdf").status_code == 200
    assert Client().get(f"/console/orders/{guest.number}/receipt.pdf").status_code == 302  # to the login
    # then the cache is in the private folder, under names that say nothing of the order
    cached = sorted(p.name for p in (folders / "private").iterdir())
    assert len(cached) == 2
    assert not any(mine.number in name or guest.number in name for name in cached)
    assert not (folders / "media").exists() or not any((folders / "media").rglob("*.pdf"))
    with pytest.raises(ValueError):
        render.receipt_storage().url(cached[0])


@pytest.mark.django_db
def test_nothing_is_served_from_media_even_in_debug(folders):
    load_demo()
    order = order_for([(ProductFactory(), 1)])
    render.receipt_pdf(Order.objects.get(pk=order.pk))
    name = next((folders / "private").iterdir()).name
    with override_settings(DEBUG=True):
        for url in (f"/media/receipts/{name}", f"/media/{name}", f"/media/../private/{name}"):
            response = Client().get(url)
            # not found, or refused as a suspicious path: never the receipt
            assert response.status_code in (400, 404) and b"%PDF" not in response.content, url


def test_private_root_is_outside_media(settings):
    from pathlib import Path

    media, private = Path(settings.MEDIA_ROOT).resolve(), Path(settings.RECEIPTS_ROOT).resolve()
    assert media not in private.parents and private != media


@pytest.mark.django_db
def test_the_receipt_reads_in_the_readers_language_and_is_cached_per_language(folders):
    from django.utils import translation

    load_demo()
    order = paid_order_for([(ProductFactory(), 1)])
    korean = render.receipt_html(order)
    assert "<h1>영수증</h1>" in korean and "총 결제금액" in korean and '<html lang="ko">' in korean
    with translation.override("en"):
        english = render.receipt_html(order)
        english_path = render.receipt_path(order)
    assert "<h1>Receipt</h1>" in english and "Total paid" in english and '<html lang="en">' in english
    assert "영수증" not in english and "총 결제금액" not in english and "(Receipt)" not in korean
    assert english_path != render.receipt_path(order)  # a Korean reader is never served the English PDF

"""A refund's 현금환불 사유 is stored in the shop's language whatever the operator's screen was in, and shown in the
reader's: the English console reads it in English, the Korean one in Korean."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone, translation

from portal.aftersales.common import create_refund
from portal.aftersales.models import RefundReason
from portal.orders.models import PaymentMethod
from tests.factories import ProductFactory, paid_order_for

pytestmark = pytest.mark.django_db

KO = "휴대폰결제는 부분취소가 되지 않아 현금환불(계좌)로 돌려줍니다."
EN_WORD = "cannot be cancelled in part"


def test_the_cash_refund_reason_is_kept_in_korean_and_read_in_the_reader_s_language():
    # given a mobile payment of 20,000원 and a refund of part of it recorded from the English console
    order = paid_order_for([(ProductFactory(price_won=20_000), 1)], method=PaymentMethod.PHONE)
    with translation.override("en"):
        refund = create_refund(timezone.now(), order=order, reason=RefundReason.CANCEL, cash_won=5_000,
                               bank="농협", account_no="302-1234-5678", holder="홍길동")
    # then it is paid as 현금환불, its reason stored in Korean
    assert refund.method == "cash" and refund.cash_reason == KO
    user = User.objects.create_user("op-lang", password="x")
    user.user_permissions.add(Permission.objects.get(codename="operate_console"))
    for language, expect_korean in (("en", False), ("ko", True)):
        client = Client()
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get("/console/refunds/").content.decode()
        # and 환불관리 shows it in the reader's language
        assert (KO in page) == expect_korean, language
        if not expect_korean:
            assert "cash-reason" in page and EN_WORD in page.split('class="d-block text-muted cash-reason">', 1)[1][:200]

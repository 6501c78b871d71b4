"""What the bulk tests share: a logged-in operator without the sandbox, orders made in bulk, an XLSX in memory."""

import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from portal.orders.models import Order, OrderStatus, PaymentMethod
from tests.support.db_state import load_demo


@pytest.fixture
def operator_client(db):
    load_demo()
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


def make_orders(count: int, status: str = OrderStatus.PAID, prefix: str = "20261204-9") -> list[Order]:
    """`count` orders in `status`, numbered prefix + a six-digit sequence, written in one statement."""
    now = timezone.now()
    Order.objects.bulk_create([
        Order(number=f"{prefix}{n:06d}", status=status, payment_method=PaymentMethod.BANK_TRANSFER,
              orderer_name="홍길동", orderer_phone="010-0000-0000", recipient_name="홍길동",
              recipient_phone="010-0000-0000", address="서울 동작구 신대방2동", goods_won=5_000, payable_won=5_000,
              placed_at=now) for n in range(count)])
    return list(Order.objects.filter(number__startswith=prefix).order_by("number"))


def xlsx(rows, header=("주문번호", "택배사", "송장번호")) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    if header:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "invoices.xlsx"
    return out

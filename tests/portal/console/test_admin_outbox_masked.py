"""Django admin's outbox shows a delivery invoice call with its recipient masked, as every back-office screen does
(issue 25): the payload stored for the wire keeps the full data until the retention job, the screen does not."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mileage.models import OutboxMessage
from tests.portal.console.conftest import operator, place  # noqa: F401  (fixture)
from tests.portal.storefront.conftest import GUEST, shop  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def test_the_admin_outbox_page_of_an_invoice_call_masks_the_recipient(shop, operator):  # noqa: F811
    # given a guest's order shipped with a delivery invoice, its call kept in the outbox
    order, _buyer = place(shop, method="card")
    operator.post(f"/console/orders/{order.number}/action/ship/", {"carrier": "cj", "invoice_no": "6541111"})
    invoice = OutboxMessage.objects.get(order=order, kind="invoice")
    phone = GUEST["orderer_phone"]
    assert invoice.payload["invoice"]["recipient_cph_no"] == phone
    # when a superuser opens it in the Django admin
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x"))
    page = admin.get(f"/django-admin/mileage/outboxmessage/{invoice.pk}/change/")
    text = page.content.decode()
    # then the invoice number shows, the full phone, name and street address do not
    assert page.status_code == 200 and "6541111" in text
    assert phone not in text and phone.split("-")[-1] in text
    assert GUEST["orderer_name"] not in text

"""The shop's screens as people see them: merchant details in the footer and on the receipt, the language switch,
pictures with a placeholder, no inline script or style (the pages run under a strict CSP)."""

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from pypdf import PdfReader
from wagtail.models import Site

from cms_pages.models import MerchantDetails
from portal.demo.merchant import DEMO_MERCHANT, load_product_images
from portal.receipts.render import receipt_html
from tests.factories import ProductFactory, order_for
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db

INLINE = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>(?!\s*</script>)|\son[a-z]+=\"|\sstyle=\"", re.I)


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = "http://127.0.0.1:9"
    cache.clear()
    load_demo()
    yield
    cache.clear()


def test_footer_and_receipt_carry_the_merchant_details(demo, client):
    page = client.get("/shop/").content.decode()
    for value in DEMO_MERCHANT.values():
        assert value in page
    html = receipt_html(order_for([(ProductFactory(), 1)]))
    assert "사업자등록번호" in html and DEMO_MERCHANT["business_number"] in html


def test_an_edit_of_the_details_shows_at_once(demo, client):
    details = MerchantDetails.for_site(Site.objects.get(is_default_site=True))
    details.company_name = "새상호"
    details.save()
    assert "새상호" in client.get("/shop/").content.decode()


def test_receipt_pdf_has_the_details(demo):
    from portal.receipts.render import receipt_pdf

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt_pdf(order_for([(ProductFactory(), 1)])))).pages)
    assert DEMO_MERCHANT["business_number"] in text and "통신판매업" in text


def test_pictures_and_placeholder(demo, client):
    assert "상품이미지 준비중입니다" in client.get("/shop/").content.decode()
    assert load_product_images() > 0 and load_product_images() == 0  # idempotent
    page = client.get("/shop/p/1/").content.decode()
    assert "/media/products/demo-1.png" in page
    assert client.get("/media/products/demo-1.png").status_code == 200


def test_language_switch(demo, client):
    page = client.get("/shop/").content.decode()
    assert 'action="/i18n/setlang/"' in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/shop/"})
    assert response.status_code == 302
    assert "Cart" in client.get("/shop/").content.decode()


@pytest.mark.parametrize("path", ["/shop/", "/shop/p/1/", "/shop/cart/", "/accounts/login/", "/shop/guest/"])
def test_no_inline_script_handler_or_style(demo, client, path):
    page = client.get(path).content.decode()
    assert not INLINE.search(page), INLINE.search(page)


@pytest.mark.parametrize("path", ["/console/", "/console/orders/", "/console/refunds/", "/console/outbox/",
                                  "/console/mileage/settings/", "/console/mileage/exclusions/"])
def test_console_has_no_inline_script_either(demo, client, path):
    client.force_login(User.objects.get(username="operator"))
    page = client.get(path).content.decode()
    assert 'id="breadcrumb"' in page and not INLINE.search(page), INLINE.search(page)


def test_editors_keep_the_merchant_details_in_the_cms(demo, client):
    client.force_login(User.objects.get(username="editor"))
    site = Site.objects.get(is_default_site=True)
    page = client.get(f"/cms/settings/cms_pages/merchantdetails/{site.pk}/").content.decode()
    # the form holds the details the footer and the receipt show, and the 무통장입금 account
    for field in ("company_name", "business_number", "mail_order_number", "deposit_bank", "deposit_account_no"):
        assert f'name="{field}"' in page, field
    assert DEMO_MERCHANT["business_number"] in page


def test_a_receipt_of_an_order_never_paid_says_so(demo):
    from portal.receipts.render import receipt_pdf

    # given a bank-transfer order whose deposit never came
    order = order_for([(ProductFactory(price_won=7_000), 1)])
    assert order.status == "awaiting_deposit"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt_pdf(order))).pages)
    # then its receipt does not call the amount paid
    assert "결제되지 않음" in text and "총 결제금액" not in text

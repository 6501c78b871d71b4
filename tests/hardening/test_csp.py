"""Finding 8: a Content-Security-Policy on every page; our templates carry no inline script, handler or style."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.support.db_state import load_demo

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b|javascript:", re.I)


def test_no_template_served_to_browsers_has_inline_script_or_style():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if path.parts[-2] == "receipts":  # rendered to PDF by WeasyPrint, never served as HTML
            continue
        for match in INLINE.finditer(path.read_text()):
            offenders.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
    assert offenders == []


@pytest.mark.django_db
def test_strict_policy_on_the_shop_and_console_relaxed_on_the_admins():
    load_demo()
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    for client, url in [(Client(), "/shop/"), (Client(), "/shop/cart/"), (Client(), "/accounts/login/"),
                        (operator, "/console/"), (Client(), "/mileage/popup/done/")]:
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["default-src"] == "'self'", url
        assert directives["script-src"] == "'self'", url
        assert directives["style-src"] == "'self'", url
        assert directives["frame-ancestors"] == "'none'", url
        assert directives["object-src"] == "'none'", url
    admin = Client().get("/cms/login/")["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in admin and "frame-ancestors 'self'" in admin


@pytest.mark.django_db
def test_with_portone_the_shop_allows_only_the_origin_of_its_browser_script(settings):
    load_demo()
    settings.PAYMENT_GATEWAY, settings.PORTONE_API_SECRET = "portone", "secret"
    settings.PORTONE_BROWSER_SDK_URL = "http://127.0.0.1:8765/v2/browser-sdk.js"
    buyer = Client()
    buyer.post("/shop/cart/add/", {"code": "4", "quantity": "1"})
    page = buyer.get("/shop/order/")
    directives = dict(part.strip().split(" ", 1) for part in page["Content-Security-Policy"].split(";") if part.strip())
    for name in ("script-src", "frame-src", "connect-src"):
        assert directives[name] == "'self' http://127.0.0.1:8765", name
    assert directives["style-src"] == "'self'" and directives["default-src"] == "'self'"
    html = page.content.decode()
    assert "js/portone_checkout.js" in html and 'data-portone-sdk="http://127.0.0.1:8765/v2/browser-sdk.js"' in html
    assert "카드번호 (테스트)" not in html

    settings.PAYMENT_GATEWAY = "test"  # the TEST gateway: no PortOne origin, no window script
    page = buyer.get("/shop/order/")
    assert "127.0.0.1:8765" not in page["Content-Security-Policy"]
    assert "portone_checkout.js" not in page.content.decode()

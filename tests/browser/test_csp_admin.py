"""Finding 8: the Wagtail admin works under its Content-Security-Policy (an editor edits and publishes a page)."""

import os
import re

import pytest
from django.contrib.auth.models import User

from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, SHOTS, browser_shop, csp_violations  # noqa: F401

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]


def test_editor_publishes_a_page_in_the_wagtail_admin(browser_shop):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from cms_pages.models import EarnBaseDisclosurePage

    _sandbox, shop_url = browser_shop
    user = User.objects.get(username="editor")
    user.set_password("editor1234!")
    user.save()
    page_id = EarnBaseDisclosurePage.objects.get().pk
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1300, "height": 1100})
        violations = csp_violations(page)
        response = page.goto(f"{shop_url}/cms/login/")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.fill("#id_username", "editor")
        page.fill("#id_password", "editor1234!")
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/cms/$"))
        page.goto(f"{shop_url}/cms/pages/{page_id}/edit/")
        expect(page.locator("#id_title")).to_be_visible()
        page.fill("#id_title", "적립 기준 안내 (수정)")
        page.click("button.action-save")  # 임시 저장 (draft)
        expect(page.locator(".messages")).to_be_visible()
        page.screenshot(path=SHOTS / "cms-edit.png", full_page=True)
        storefront = page.goto(f"{shop_url}/shop/")
        # the admin's allowances stop at /cms/: the shop's scripts are its own (and PortOne's, when it is the gateway)
        script_src = next(d for d in storefront.headers["content-security-policy"].split("; ")
                          if d.startswith("script-src "))
        assert script_src.split()[1] == "'self'" and "unsafe" not in script_src
        browser.close()
    assert EarnBaseDisclosurePage.objects.get().get_latest_revision().content["title"] == "적립 기준 안내 (수정)"
    assert violations == []

"""Joining in a real browser (manual §1): the operator opens 네이버 마일리지란?, presses 가입신청하기, fills the
provider's sign-up form, comes back with the API ID (심사중); the provider's reviewer approves; the keys shown once
are entered in 노출설정 및 셋팅 and 연결 확인 succeeds. Screenshots in test-artifacts/screenshots/."""

import os

import pytest

from mileage.models import MileageSettings

from .flows import log_in
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, SHOTS, browser_shop, csp_violations  # noqa: F401

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]


@pytest.mark.extended
def test_a_second_shop_joins_through_the_screens(browser_shop):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    sandbox, shop_url = browser_shop
    MileageSettings.objects.filter(pk=1).update(api_id="", hash_key="", service_enabled=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1200, "height": 1300})
        violations = csp_violations(page)
        log_in(page, shop_url, "operator", "/console/mileage/about/")
        expect(page.locator("#application-state")).to_have_text("미가입")
        page.screenshot(path=str(SHOTS / "console-mileage-about.png"), full_page=True)
        page.click("#join-button")
        # the provider's sign-up form
        page.fill("#id_company", "둘째상점")
        page.fill("#id_ceo", "김대표")
        page.fill("#id_business_no", "220-81-62517")
        page.fill("#id_shop_url", shop_url)
        page.fill("#id_contact_name", "이담당")
        page.fill("#id_email", "owner@shop2.example")
        page.fill("#id_phone", "02-555-1234")
        page.fill("#id_done_url_host", "127.0.0.1")
        page.screenshot(path=str(SHOTS / "sandbox-join-form.png"), full_page=True)
        page.click("#join-submit")
        expect(page.locator("#application-status")).to_have_text("심사중")
        api_id = page.locator("#api-id").inner_text()
        status_url = page.url.split("?")[0]
        page.click("#back-to-shop")
        page.click("button[type=submit]:has-text('저장')")
        expect(page.locator("#application-state")).to_have_text("심사중")
        # the provider's reviewer approves
        reviewer = browser.new_page(locale="ko-KR")
        reviewer.goto(f"{sandbox.base_url}/partner/join/review/")
        reviewer.fill("#reviewer-password", "review1234!")
        reviewer.click("button[type=submit]")
        reviewer.locator(f"tr:has-text('{api_id}') button[value=approve]").click()
        expect(reviewer.locator("[role=status]")).to_contain_text("승인했습니다")
        # the applicant sees the hash key once
        page.goto(status_url)
        hash_key = page.locator("#hash-key").inner_text()
        page.goto(f"{shop_url}/console/mileage/about/")
        expect(page.locator("#application-state")).to_have_text("승인")
        page.goto(f"{shop_url}/console/mileage/settings/")
        page.fill("#id_api_id", api_id)
        page.fill("#id_hash_key", hash_key)
        page.click("button[value=check]")
        expect(page.locator("body")).to_contain_text("연결 성공")
        page.screenshot(path=str(SHOTS / "console-joined-connection-check.png"), full_page=True)
        browser.close()
    assert not violations, violations

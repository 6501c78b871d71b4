"""전송 대기열 in a real browser: a cancel the provider refused with a state error (it had cancelled the transaction
itself) is recorded by the operator who checked it, with what they checked, in Korean and in English."""

import os

import pytest
from django.contrib.auth.models import User
from django.test import Client

from mileage.models import OutboxMessage, OutboxStatus
from mileage.provider import outbox
from mileage.provider.client import ProviderError
from tests.portal.console.conftest import place

from .flows import log_in
from .test_buyer_path import CHROMIUM, CHROMIUM_ARGS, SHOTS, browser_shop, csp_violations  # noqa: F401

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                                      reason="Debian chromium is not installed (CI installs it)")]


def test_an_operator_records_a_refused_cancel_as_already_cancelled(browser_shop, monkeypatch):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    sandbox, shop_url = browser_shop

    def refused(client, ids, payload, key):
        raise ProviderError("3013", "취소할 수 없는 상태입니다.")

    monkeypatch.setitem(outbox.CALLS, "cancel", refused)
    staff = Client()
    staff.force_login(User.objects.get(username="operator"))
    orders = [place(sandbox)[0] for _ in range(2)]  # bank transfers, 500원 used each, 입금전
    for order in orders:
        assert staff.post(f"/console/orders/{order.number}/cancel/").status_code == 302
    failed = [OutboxMessage.objects.get(order=order, kind="cancel") for order in orders]
    assert {m.status for m in failed} == {OutboxStatus.FAILED}
    user = User.objects.get(username="operator")
    user.set_password("operator1234!")
    user.save()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ko-KR", viewport={"width": 1280, "height": 900})
        violations = csp_violations(page)
        log_in(page, shop_url, "operator", "/console/outbox/")
        row = page.locator("tr", has_text=orders[0].number)
        expect(row).to_contain_text("[3013]")
        row.locator("summary").click()  # 이미 취소됨으로 기록
        expect(row.locator(f"#note-{failed[0].pk}")).to_be_visible()
        page.screenshot(path=SHOTS / "outbox-ko-resolve.png", full_page=True)
        row.locator(f"#note-{failed[0].pk}").fill("파트너센터에서 취소 완료 확인")
        row.get_by_role("button", name="취소된 것으로 기록").click()
        expect(page.locator("body")).to_contain_text("이미 취소된 것으로 기록했습니다")
        expect(page.locator("tr", has_text=orders[0].number)).to_have_count(0)
        # the same screen in English, the other refused cancel still waiting
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": shop_url}])
        page.goto(f"{shop_url}/console/outbox/")
        row = page.locator("tr", has_text=orders[1].number)
        row.locator("summary").click()
        expect(row).to_contain_text("Record as cancelled")
        page.screenshot(path=SHOTS / "outbox-en-resolve.png", full_page=True)
        browser.close()
    assert violations == []
    failed[0].refresh_from_db()
    assert failed[0].status == OutboxStatus.SENT and failed[0].response["resolvedBy"] == "operator"

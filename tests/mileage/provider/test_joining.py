"""Joining the service (docs/protocol.md §3, docs/policy.md J1–J3): a second shop applies on the provider's
partner sign-up, the reviewer rejects and then approves it, the keys are issued once (shown once and mailed),
and the shop's console follows the state from 미가입 to a working 연결 확인."""

import re

import pytest
import requests

pytestmark = [pytest.mark.sandbox, pytest.mark.extended]  # the partner sign-up is an extension

APPLICATION = {"company": "둘째상점", "ceo": "김대표", "business_no": "220-81-62517", "shop_url": "http://shop2.example/",
               "contact_name": "이담당", "email": "owner@shop2.example", "phone": "02-555-1234",
               "done_url_host": "shop2.example"}


def _form(session, url):
    page = session.get(url, timeout=10)
    return page, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def apply(sandbox, **changes):
    browser = requests.Session()
    page, token = _form(browser, f"{sandbox.base_url}/partner/join/?return=http://shop2.example/console/mileage/about/")
    answer = browser.post(page.url, data={"csrfmiddlewaretoken": token, **APPLICATION, **changes,
                                          "return": "http://shop2.example/console/mileage/about/"}, timeout=10)
    return browser, answer


def reviewer(sandbox):
    browser = requests.Session()
    page, token = _form(browser, f"{sandbox.base_url}/partner/join/review/")
    browser.post(page.url, data={"csrfmiddlewaretoken": token, "password": "review1234!"}, timeout=10)
    return browser


def review(browser, sandbox, api_id, action, reason=""):
    page, token = _form(browser, f"{sandbox.base_url}/partner/join/review/")
    pk = re.search(rf'<td>{api_id}</td>.*?name="application" value="(\d+)"', page.text, re.S).group(1)
    return browser.post(page.url, data={"csrfmiddlewaretoken": token, "application": pk, "action": action,
                                        "reason": reason}, timeout=10)


@pytest.mark.parametrize("number", ["220-81-62518", "123", "２２０-81-62517", "220-81-6251a"])
def test_a_bad_business_number_is_refused_and_nothing_is_created(sandbox, number):
    _browser, answer = apply(sandbox, business_no=number)
    assert answer.status_code == 400 and "사업자등록번호가 올바르지 않습니다" in answer.text
    assert "api-id" not in answer.text


def test_apply_reject_correct_approve_keys_once(sandbox):
    applicant, answer = apply(sandbox)
    assert answer.status_code == 200 and "심사중" in answer.text
    api_id = re.search(r'id="api-id">(\w{6})<', answer.text).group(1)
    status_url = answer.url.split("?")[0]
    assert "apiId=" + api_id in answer.text  # the link back to the shop carries the API ID
    # the reviewer sends it back with a reason
    staff = reviewer(sandbox)
    assert "반려 사유를 입력" in review(staff, sandbox, api_id, "reject").text
    review(staff, sandbox, api_id, "reject", reason="쇼핑몰 URL에 접속할 수 없습니다")
    page, token = _form(applicant, status_url)
    assert "반려" in page.text and "쇼핑몰 URL에 접속할 수 없습니다" in page.text
    # the applicant corrects and sends again
    again = applicant.post(status_url, data={"csrfmiddlewaretoken": token, **APPLICATION,
                                             "shop_url": "http://shop2.example/home/"}, timeout=10)
    assert "심사중" in again.text
    review(staff, sandbox, api_id, "approve")
    first = applicant.get(status_url, timeout=10).text
    hash_key = re.search(r'id="hash-key">([0-9a-f]{40})<', first).group(1)
    second = applicant.get(status_url, timeout=10).text
    assert hash_key not in second and "한 번 표시" in second  # shown once
    mails = list((sandbox.log_path.parent / "mail").glob("*.log"))
    assert any(hash_key in m.read_text() for m in mails)  # and mailed
    # the keys work: an authenticated call with them succeeds
    from mileage.provider import MileageClient

    client = MileageClient(api_base=sandbox.base_url, service_base=sandbox.base_url, api_id=api_id, hash_key=hash_key)
    assert client.accum_rate().raw.get("serviceStatus") == "ACTIVE"

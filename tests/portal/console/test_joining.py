"""A second shop joins from the console (manual §1, docs/policy.md J1–J3): 네이버 마일리지란? shows the service and
가입신청하기, the state follows the provider from 미가입 through 심사중 and 반려 (with the reason) to 승인, and the keys
the provider issued once make 연결 확인 work."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from mileage.models import MileageSettings
from tests.mileage.provider.test_joining import APPLICATION, _form, review, reviewer

pytestmark = pytest.mark.sandbox


@pytest.mark.extended
def test_a_second_shop_walks_from_unjoined_to_a_working_connection_check(shop, operator):
    settings = MileageSettings.load()
    settings.api_id, settings.hash_key, settings.service_enabled = "", "", False
    settings.save()
    page = operator.get("/console/mileage/about/").content.decode()
    assert 'data-state="none"' in page and "미가입" in page and "서비스 장점" in page and "가맹점 가입절차" in page
    join = re.search(r'href="([^"]+)" id="join-button"', page).group(1).replace("&amp;", "&")
    assert join.startswith(f"{shop.base_url}/partner/join/?")
    back = dict(parse_qsl(urlsplit(join).query))["return"]
    assert back.endswith("/console/mileage/about/")
    # the merchant fills the provider's sign-up form
    applicant = requests.Session()
    form_page, token = _form(applicant, join)
    answer = applicant.post(form_page.url, data={"csrfmiddlewaretoken": token, **APPLICATION, "return": back},
                            timeout=10)
    api_id = re.search(r'id="api-id">(\w{6})<', answer.text).group(1)
    link = re.search(r'href="([^"]+)" id="back-to-shop"', answer.text).group(1).replace("&amp;", "&")
    assert dict(parse_qsl(urlsplit(link).query))["apiId"] == api_id
    # back in the console with the API ID: 심사중
    page = operator.get(f"/console/mileage/about/?apiId={api_id}").content.decode()
    assert f'value="{api_id}"' in page
    operator.post("/console/mileage/about/", {"api_id": api_id})
    assert 'data-state="review"' in operator.get("/console/mileage/about/").content.decode()
    staff = reviewer(shop)
    review(staff, shop, api_id, "reject", reason="사업장 주소를 확인할 수 없습니다")
    page = operator.get("/console/mileage/about/").content.decode()
    assert 'data-state="rejected"' in page and "사업장 주소를 확인할 수 없습니다" in page
    status_url = answer.url.split("?")[0]
    form_page, token = _form(applicant, status_url)
    applicant.post(status_url, data={"csrfmiddlewaretoken": token, **APPLICATION}, timeout=10)
    review(staff, shop, api_id, "approve")
    hash_key = re.search(r'id="hash-key">([0-9a-f]{40})<', applicant.get(status_url, timeout=10).text).group(1)
    page = operator.get("/console/mileage/about/").content.decode()
    assert 'data-state="approved"' in page
    # J3: the keys entered once in 노출설정 및 셋팅, pasted with the spaces a copy brings along (the browser's
    # maxlength never cuts them short); 연결 확인 works
    form = operator.get("/console/mileage/settings/").content.decode()
    padded_id, padded_key = f" {api_id} ", f"  {hash_key} "
    for name, padded in (("api_id", padded_id), ("hash_key", padded_key)):
        assert int(re.search(rf'name="{name}"[^>]*maxlength="(\d+)"', form).group(1)) >= len(padded)
    checked = operator.post("/console/mileage/settings/", {"api_id": padded_id, "hash_key": padded_key,
                                                             "action": "check"}).content.decode()
    assert "연결 성공" in checked
    operator.post("/console/mileage/settings/", {"api_id": api_id, "hash_key": hash_key, "action": "save",
                                                 "subtract_discounts": "on", "subtract_store_points": "on",
                                                 "store_points_first": "on"})
    assert MileageSettings.load().hash_key == hash_key


def test_a_bad_api_id_changes_nothing(shop, operator):
    settings = MileageSettings.load()
    settings.api_id, settings.hash_key = "", ""
    settings.save()
    response = operator.post("/console/mileage/about/", {"api_id": "12"})
    assert response.status_code == 400 and MileageSettings.load().api_id == ""

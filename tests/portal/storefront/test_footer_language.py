"""The buyer's footer (issue 24): its links keep the language the buyer chose, and it leads to the buyer's benefit
page, not to the merchant's pitch (/service/, shown in the console's 네이버 마일리지란?)."""

import re

import pytest
from django.test import Client
from django.utils import translation

from portal.i18n import localized_path

pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True)
def _default_language_after():
    """A request through the language switch leaves English active in this thread: later tests expect Korean."""
    yield
    translation.deactivate()


def _footer_links(html: str) -> list[str]:
    footer = html.split('id="footer-links"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'href="([^"]+)"', footer)


def _english(client: Client) -> None:
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/shop/"}).status_code == 302


def test_english_footer_links_keep_the_language_and_the_pages_stay_english(shop):
    # given a buyer who chose English
    client = Client()
    _english(client)
    shop_page = client.get("/shop/").content.decode()
    assert '<html lang="en">' in shop_page
    links = _footer_links(shop_page)
    assert links == ["/shop/mileage/", "/en/earn-base/", "/en/exchange-policy/", "/en/help/"]
    # when they follow 적립 기준 안내, the page is English and the switch still says English
    page = client.get("/en/earn-base/").content.decode()
    assert '<html lang="en">' in page and "Earn-base disclosure" in page
    assert '<option value="en" lang="en" selected>' in page
    # and an old unprefixed link (an editor's text, a bookmark) takes them to the English page too
    old = client.get("/earn-base/?from=mail")
    assert old.status_code == 302 and old["Location"] == "/en/earn-base/?from=mail"
    assert old["Vary"] and "Cookie" in old["Vary"]
    # the shop's own pages, the console and the CMS are never redirected
    assert client.get("/shop/cart/").status_code == 200
    assert client.get("/cms/").status_code == 302 and "/en/" not in client.get("/cms/")["Location"]


def test_korean_footer_links_have_no_prefix_and_korean_pages_are_not_redirected(shop):
    client = Client()
    page = client.get("/shop/").content.decode()
    assert '<html lang="ko">' in page
    assert _footer_links(page) == ["/shop/mileage/", "/earn-base/", "/exchange-policy/", "/help/"]
    assert client.get("/earn-base/").status_code == 200
    # without `next` the switch returns to the page it was pressed on (the Referer), in the chosen language
    back = client.post("/i18n/setlang/", {"language": "en"}, HTTP_REFERER="http://testserver/help/")
    assert back["Location"] == "http://testserver/en/help/"
    assert client.get("/").status_code == 302 and client.get("/")["Location"] == "/en/"
    # a buyer who switches back to Korean on an English page lands on the Korean page, and stays there
    switched = client.post("/i18n/setlang/", {"language": "ko", "next": "/en/earn-base/"})
    assert switched["Location"] == "/earn-base/"
    assert client.get("/earn-base/").status_code == 200


def test_the_footer_leads_buyers_to_their_benefits_not_to_the_merchant_pitch(shop):
    client = Client()
    page = client.get("/shop/").content.decode()
    assert "/service/" not in _footer_links(page)
    benefits = client.get("/shop/mileage/").content.decode()
    assert "네이버 마일리지 혜택" in benefits and "500원부터" in benefits and 'id="earn-base-rules"' in benefits
    assert "가맹점 가입" not in benefits and "인증키" not in benefits
    _english(client)
    benefits = client.get("/shop/mileage/").content.decode()
    assert "Naver Mileage benefits" in benefits and 'href="/en/earn-base/"' in benefits


def test_localized_path_gives_a_page_in_a_language_and_leaves_other_addresses_alone(shop):
    assert localized_path("/earn-base/", "en") == "/en/earn-base/"
    assert localized_path("/en/help/", "ko") == "/help/"
    assert localized_path("/en/help/", "en") == "/en/help/"
    assert localized_path("/", "en") == "/en/"
    assert localized_path("/help/?q=1#top", "en") == "/en/help/?q=1#top"
    for other in ("/shop/cart/", "/console/", "https://example.com/earn-base/", "mailto:a@b.c", ""):
        assert localized_path(other, "en") == other


def test_a_member_is_greeted_by_name_and_staff_by_login(db):
    from django.contrib.auth.models import User
    from django.test import Client

    from tests.support.db_state import load_demo

    load_demo()
    member, staff = Client(), Client()
    member.force_login(User.objects.get(username="hong"))
    staff.force_login(User.objects.get(username="operator"))
    assert "홍길동님" in member.get("/shop/").content.decode()
    assert "operator님" in staff.get("/shop/").content.decode()

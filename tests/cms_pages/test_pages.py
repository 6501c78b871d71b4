"""The CMS: page rules, live blocks, revisions, the editor/operator split, Korean content, an English page."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import translation
from wagtail.models import Locale, Page

from cms_pages.models import (
    EarnBaseDisclosurePage,
    ExchangePolicyPage,
    HelpIndexPage,
    HelpPage,
    HomePage,
    ServiceOverviewPage,
)
from cms_pages.selectors import live_disclosure
from mileage.models import MileageSettings, OperatorNotice
from mileage.selectors import checkout_available
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    cache.clear()
    load_demo()
    return HomePage.objects.get()


def test_page_creation_rules(shop):
    help_index = HelpIndexPage.objects.get()
    assert HelpPage.can_create_at(help_index)
    assert not HelpPage.can_create_at(shop)
    assert not EarnBaseDisclosurePage.can_create_at(help_index)
    assert not EarnBaseDisclosurePage.can_create_at(HelpPage.objects.first())
    # one disclosure per site: the home already has one
    assert not EarnBaseDisclosurePage.can_create_at(shop)
    assert not ServiceOverviewPage.can_create_at(shop)
    assert set(HomePage.allowed_subpage_models()) == {ServiceOverviewPage, EarnBaseDisclosurePage,
                                                      ExchangePolicyPage, HelpIndexPage}
    assert not HomePage.can_create_at(shop)


def test_published_pages_render_korean_content(client, shop):
    for path, text in [("/service/", "고객유입 증대"), ("/exchange-policy/", "최초 주문한 금액 기준"),
                       ("/help/", "네이버 마일리지는 어떻게 사용하나요?"), ("/", "서비스 소개")]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert text in response.content.decode(), path


def test_disclosure_block_follows_the_settings_live(client, shop):
    page = client.get("/earn-base/").content.decode()
    assert "배송비/포장비는 적립대상금액에서 제외됩니다." in page
    assert "20,000원" in page and "500,000원" in page and "15일" in page and "500원" in page
    settings = MileageSettings.load()
    settings.include_shipping, settings.subtract_discounts = True, False
    settings.save()
    page = client.get("/earn-base/").content.decode()
    assert "배송비/포장비는 적립대상금액에 포함됩니다." in page
    assert "쇼핑몰 할인금액도 적립대상금액에 포함됩니다." in page


def test_disclosure_block_shows_the_providers_rate(client, shop, sandbox, settings):
    settings.MILEAGE_API_BASE = sandbox.base_url
    assert "기본 적립률: 적립대상금액의 1%" in client.get("/earn-base/").content.decode()


def test_unpublishing_the_disclosure_switches_checkout_off_and_tells_operators(shop):
    assert checkout_available(disclosure_published=live_disclosure() is not None) == (True, "")
    revision_before = live_disclosure().live_revision_id
    disclosure = EarnBaseDisclosurePage.objects.get()
    disclosure.unpublish()
    available, why = checkout_available(disclosure_published=live_disclosure() is not None)
    assert not available and "적립 기준 안내" in why
    assert OperatorNotice.objects.filter(resolved_at__isnull=True).count() == 1
    # the buyer's pages agree: no rate offered on a product, no link to a page that is gone
    from django.test import Client

    product = Client().get("/shop/p/1/").content.decode()
    assert "지금은 네이버 마일리지를 이용할 수 없습니다." in product and "% 적립" not in product
    assert 'href="/earn-base/"' not in product
    # the operators read it on the dashboard they open first, and on 주문조회
    operator = Client()
    operator.force_login(User.objects.get(username="operator"))
    for screen in ("/console/", "/console/orders/"):
        assert "적립 기준 안내 페이지가 게시 중단되어" in operator.get(screen).content.decode(), screen
    disclosure.save_revision().publish()
    product = Client().get("/shop/p/1/").content.decode()
    assert "지금은 네이버 마일리지를 이용할 수 없습니다." not in product and 'href="/earn-base/"' in product
    assert checkout_available(disclosure_published=live_disclosure() is not None) == (True, "")
    assert OperatorNotice.objects.filter(resolved_at__isnull=True).count() == 0
    assert "적립 기준 안내 페이지가 게시 중단되어" not in operator.get("/console/").content.decode()
    assert live_disclosure().live_revision_id != revision_before


def test_an_english_disclosure_published_beside_it_never_keeps_the_button_on_without_the_shops_own(shop):
    from django.test import Client

    from cms_pages.selectors import reader_disclosure

    disclosure = EarnBaseDisclosurePage.objects.get()
    english = disclosure.copy_for_translation(Locale.objects.get_or_create(language_code="en")[0], copy_parents=True)
    english.save_revision().publish()
    assert live_disclosure() == disclosure
    with translation.override("en"):  # a reader in English is shown the English page
        assert reader_disclosure() == english
    # the translation unpublished and published again: the button stays on, and no operator is told otherwise
    english.unpublish()
    assert live_disclosure() == disclosure and not OperatorNotice.objects.exists()
    english.save_revision().publish()
    # when the shop's own 적립 기준 안내 is unpublished, the English one left live does not keep mileage on
    disclosure.unpublish()
    assert live_disclosure() is None
    available, why = checkout_available(disclosure_published=live_disclosure() is not None)
    assert not available and "적립 기준 안내" in why
    product = Client().get("/shop/p/1/").content.decode()
    assert "지금은 네이버 마일리지를 이용할 수 없습니다." in product and "% 적립" not in product
    with translation.override("en"):
        assert reader_disclosure() is None
    # the home page, too, stops telling buyers what they can use and earn (it said so until now, by its own reading)
    assert 'id="home-rules"' not in Client().get("/").content.decode()
    disclosure.save_revision().publish()
    assert 'id="home-rules"' in Client().get("/").content.decode()


def test_a_disclosure_behind_a_view_restriction_is_not_live_for_checkout_as_wagtail_public_reads_it(shop):
    from wagtail.models import PageViewRestriction

    disclosure = EarnBaseDisclosurePage.objects.get()
    home = disclosure.get_parent()
    sibling = ExchangePolicyPage.objects.get()
    assert live_disclosure() is not None
    for restricted, hidden in ((sibling, False), (disclosure, True), (home, True)):
        restriction = PageViewRestriction.objects.create(page=restricted, restriction_type="password",
                                                         password="x")
        # read afresh (the request memo is not active here) in one query, the same answer as Wagtail's .public()
        assert (live_disclosure() is None) is hidden
        assert (EarnBaseDisclosurePage.objects.live().public().first() is None) is hidden
        restriction.delete()
    assert live_disclosure() is not None


def test_editors_edit_pages_and_operators_cannot(client, shop):
    disclosure = EarnBaseDisclosurePage.objects.get()
    client.force_login(User.objects.get(username="editor"))
    assert client.get("/cms/").status_code == 200
    assert client.get(f"/cms/pages/{disclosure.pk}/edit/").status_code == 200
    help_index = HelpIndexPage.objects.get()
    assert client.get(f"/cms/pages/add/cms_pages/helppage/{help_index.pk}/").status_code == 200
    client.force_login(User.objects.get(username="operator"))
    response = client.get("/cms/")
    assert response.status_code in (302, 403)
    assert client.get(f"/cms/pages/{disclosure.pk}/edit/").status_code in (302, 403)


def test_editor_saves_a_draft_and_publishes_with_revisions(client, shop):
    disclosure = EarnBaseDisclosurePage.objects.get()
    revisions_before = disclosure.revisions.count()
    client.force_login(User.objects.get(username="editor"))
    edit = f"/cms/pages/{disclosure.pk}/edit/"
    data = {"title": "적립 기준 안내 (개정)", "slug": "earn-base", "intro": '{"blocks":[],"entityMap":{}}',
            "body-count": "0"}
    response = client.post(edit, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    disclosure.refresh_from_db()
    assert disclosure.has_unpublished_changes and disclosure.title != "적립 기준 안내 (개정)"
    response = client.post(edit, {**data, "action-publish": "publish"})
    assert response.status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.title == "적립 기준 안내 (개정)"
    assert disclosure.revisions.count() == revisions_before + 2


def test_wagtail_admin_speaks_korean(client, shop):
    client.force_login(User.objects.get(username="editor"))
    assert "대시보드" in client.get("/cms/").content.decode()


def test_an_english_version_of_a_page(client, shop):
    english = Locale.objects.get(language_code="en")
    overview = ServiceOverviewPage.objects.get()
    # before it is translated, the English site shows the Korean page and says why
    untranslated = client.get("/en/service/").content.decode()
    assert "고객유입 증대" in untranslated and 'id="untranslated-page"' in untranslated
    assert "has not been translated yet" in untranslated
    assert 'id="untranslated-page"' not in client.get("/service/").content.decode()
    translated = overview.copy_for_translation(english, copy_parents=True)
    translated.title = "About Naver Mileage"
    translated.body = [("hero", {"heading": "Naver Mileage", "text": "One Naver ID to earn and spend everywhere."})]
    translated.save_revision().publish()
    response = client.get("/en/service/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "About Naver Mileage" in text and "Log in" in text and 'id="untranslated-page"' not in text
    assert "고객유입 증대" in client.get("/service/").content.decode()
    assert Page.objects.filter(locale=english).count() >= 2


def test_the_consoles_service_overview_is_the_readers_translation_or_says_it_has_none(client, shop):
    english = Locale.objects.get(language_code="en")
    client.force_login(User.objects.get(username="operator"))
    client.cookies["django_language"] = "en"
    untranslated = client.get("/console/mileage/about/").content.decode()
    assert "고객유입 증대" in untranslated and "has not been translated yet" in untranslated
    translated = ServiceOverviewPage.objects.get().copy_for_translation(english, copy_parents=True)
    translated.body = [("hero", {"heading": "Naver Mileage", "text": "One Naver ID to earn and spend everywhere."})]
    translated.save_revision().publish()
    page = client.get("/console/mileage/about/").content.decode()
    assert "One Naver ID to earn and spend everywhere." in page and "고객유입 증대" not in page
    assert 'id="untranslated-page"' not in page
    client.cookies["django_language"] = "ko"
    assert "고객유입 증대" in client.get("/console/mileage/about/").content.decode()


def test_an_editor_cannot_type_the_rules_numbers_into_a_page(client, shop):
    # given the disclosure page, whose rules block the template renders live from the merchant's settings
    disclosure = EarnBaseDisclosurePage.objects.get()
    revisions_before = disclosure.revisions.count()
    client.force_login(User.objects.get(username="editor"))
    typed = ('{"blocks":[{"key":"a","text":"구매금액의 1% 적립, 500원부터 사용","type":"unstyled","depth":0,'
             '"inlineStyleRanges":[],"entityRanges":[]}],"entityMap":{}}')
    data = {"title": "적립 기준 안내", "slug": "earn-base", "intro": typed, "body-count": "0",
            "action-publish": "publish"}
    # when the editor publishes an intro that types the rate and the minimum use
    response = client.post(f"/cms/pages/{disclosure.pk}/edit/", data)
    # then nothing is saved and the form says what was found and why
    assert response.status_code == 200
    assert "«1%»" in response.content.decode() and "직접 쓰지 마세요" in response.content.decode()
    disclosure.refresh_from_db()
    assert disclosure.revisions.count() == revisions_before
    # and the same words without the numbers are published
    plain = typed.replace("구매금액의 1% 적립, 500원부터 사용", "적립률과 사용 기준은 아래와 같습니다")
    assert client.post(f"/cms/pages/{disclosure.pk}/edit/", {**data, "intro": plain}).status_code == 302


@pytest.mark.parametrize(("text", "typed"), [
    ("적립률 1.5 %", "1.5 %"), ("최대 2만원 적립", "2만원"), ("500,000원 이상", "500,000원"), ("5,000원 상품", None),
    ("1500원", None), ("7일 이내 교환", None),
    # the amounts however the currency is written
    ("1회 최대 ₩20,000", "₩20,000"), ("최대 20,000 KRW", "20,000 KRW"), ("₩200,000 이상 구매", None), ("₩5000", None),
    # when the mileage can be used, how long a visit from an ad counts: a number of days after which, or of hours,
    # in a sentence about the mileage, whatever the number (a wrong one contradicts the live rules)
    ("적립금은 결제 7일 후 사용 가능", "7일 후"), ("광고 유입 후 12시간 추가적립", "12시간"),
    ("마일리지 적립은 구매확정 15일 뒤", "15일 뒤"),
    # a date, a shipping promise, a period within which something may be done: the shop's own words
    ("12월 15일 이후 적립 이벤트", None), ("12월 15일 배송 휴무", None), ("2일 후 발송됩니다", None),
    # a wrong cap or minimum in a sentence about the mileage contradicts the live rules as much as the right one
    # repeats them; a price in another sentence is the shop's own
    ("주문 1회당 최대 30,000원까지 적립됩니다", "30,000원"), ("네이버 마일리지는 최소 1,000원부터 사용", "1,000원"),
    ("적립률 3 퍼센트", "3 퍼센트"), ("배송비 3,000원", None),
    # in English, and in full-width characters
    ("Earn 1 percent", "1 percent"), ("Naver Mileage from 500 won", "500 won"),
    ("Earn up to 30,000 won per order", "30,000 won"), ("Mileage is usable 15 days after payment", "15 days after"),
    ("적립률 １％", "1%"), ("최대 ２０,０００원 적립", "20,000원"), ("Shipping costs 3,000 won", None),
])
def test_which_numbers_count_as_typed_rules(text, typed):
    from cms_pages.models import typed_rule

    assert typed_rule(text) == typed


def test_a_rule_typed_in_the_body_or_a_faq_answer_is_refused_too(shop):
    from django.core.exceptions import ValidationError
    from wagtail.rich_text import RichText

    page = ServiceOverviewPage.objects.get()
    page.body = [("faq", {"question": "얼마부터 쓸 수 있나요?", "answer": RichText("<p><b>500</b>원부터</p>")})]
    with pytest.raises(ValidationError) as caught:
        page.full_clean()
    assert "body" in caught.value.message_dict
    # a price in one paragraph or block is not read into the mileage sentence of the one before it
    page.body = [("faq", {"question": "네이버 마일리지는 어디서 쓰나요", "answer": RichText(
        "<p>네이버 마일리지로 결제하세요</p><p>5만원 이상 무료배송</p>")}),
        ("faq", {"question": "배송비는 얼마인가요?", "answer": RichText("<p>배송비는 3,000원입니다</p>")})]
    page.full_clean()
    # the promote tab's description is shown under the page's card on the home page: checked as the page's text
    page.body = []
    page.search_description = "모든 상품 10% 적립, 최소 1,000원부터 사용"
    with pytest.raises(ValidationError) as caught:
        page.full_clean()
    assert "search_description" in caught.value.message_dict


def test_a_schedule_out_of_reach_is_refused_with_its_message_and_nothing_saved(client, shop):
    disclosure = EarnBaseDisclosurePage.objects.get()
    revisions_before = disclosure.revisions.count()
    client.force_login(User.objects.get(username="editor"))
    data = {"title": "적립 기준 안내", "slug": "earn-base", "intro": '{"blocks":[],"entityMap":{}}', "body-count": "0",
            "go_live_at": "0001-01-01 00:00"}
    response = client.post(f"/cms/pages/{disclosure.pk}/edit/", data)
    assert response.status_code == 200
    assert "게시 예약 일시는 2000년부터 9998년 사이로 입력해 주세요." in response.content.decode()
    disclosure.refresh_from_db()
    assert disclosure.revisions.count() == revisions_before


def test_the_disclosure_is_never_deleted_alone_with_its_parent_or_in_bulk(client, shop):
    """Every order keeps the revision of the disclosure it was placed under (주문상세정보 shows it as it was): the
    page is never deleted — by its editor, with the home page above it, or in the explorer's bulk delete; it may be
    edited or unpublished."""
    disclosure = EarnBaseDisclosurePage.objects.get()
    revisions = disclosure.revisions.count()
    for username in ("editor", "admin"):
        client.force_login(User.objects.get(username=username))
        for method in (client.get, client.post):
            answer = method(f"/cms/pages/{disclosure.pk}/delete/", follow=True)
            assert answer.status_code == 200 and "적립 기준 안내는 삭제할 수 없습니다" in answer.content.decode()
    home = disclosure.get_parent()
    assert "삭제할 수 없습니다" in client.post(f"/cms/pages/{home.pk}/delete/", follow=True).content.decode()
    bulk = client.post(f"/cms/bulk/wagtailcore/page/delete/?id={disclosure.pk}&id={home.pk}", follow=True)
    assert "삭제할 수 없습니다" in bulk.content.decode()
    disclosure = EarnBaseDisclosurePage.objects.get()
    assert disclosure.live and disclosure.revisions.count() == revisions and Page.objects.filter(pk=home.pk).exists()
    # another page is deleted as before
    help_page = HelpPage.objects.first()
    assert client.post(f"/cms/pages/{help_page.pk}/delete/").status_code == 302
    assert not HelpPage.objects.filter(pk=help_page.pk).exists()


def test_an_editor_translates_a_page_into_english_and_publishes_it(client, shop):
    """The editor (not an admin) submits the home page with its pages for translation (Wagtail's simple translation
    offers a page's language only once its parent has it), edits the exchange-policy notice's English copy and
    publishes it; the English storefront then shows it, without the "not translated yet" note."""
    english = Locale.objects.get(language_code="en")
    policy = ExchangePolicyPage.objects.get()
    client.force_login(User.objects.get(username="editor"))
    home = policy.get_parent()
    assert client.get(f"/cms/translation/submit/page/{home.pk}/").status_code == 200
    submitted = client.post(f"/cms/translation/submit/page/{home.pk}/", {"locales": [english.pk],
                                                                         "include_subtree": "on"})
    assert submitted.status_code == 302, submitted.content.decode()[-1500:]
    copy = ExchangePolicyPage.objects.get(locale=english)
    form = {"title": "Exchange policy", "slug": copy.slug, "intro": (
        '{"blocks":[{"key":"a","text":"How the earn base is set when goods are exchanged.","type":"unstyled",'
        '"depth":0,"inlineStyleRanges":[],"entityRanges":[]}],"entityMap":{}}'), "body-count": "0",
            "action-publish": "publish"}
    edit = client.get(f"/cms/pages/{copy.pk}/edit/")
    assert edit.status_code == 200
    published = client.post(f"/cms/pages/{copy.pk}/edit/", form)
    assert published.status_code == 302, published.content.decode()[-3000:]
    # the copies are drafts until published: the English home too (the explorer's bulk publish)
    english_home = HomePage.objects.get(locale=english)
    assert client.post(f"/cms/bulk/wagtailcore/page/publish/?id={english_home.pk}").status_code == 302
    page = client.get(f"/en/{policy.slug}/").content.decode()
    assert "Exchange policy" in page and 'id="untranslated-page"' not in page
    assert "교환 정책 안내" in client.get(f"/{policy.slug}/").content.decode()


def test_the_editors_preview_panel_may_frame_the_page_it_previews(client, shop):
    disclosure = EarnBaseDisclosurePage.objects.get()
    client.force_login(User.objects.get(username="editor"))
    url = f"/cms/pages/{disclosure.pk}/edit/preview/"
    data = {"title": "적립 기준 안내", "slug": "earn-base", "intro": '{"blocks":[],"entityMap":{}}', "body-count": "0"}
    assert client.post(url, data).json()["is_valid"] is True
    preview = client.get(url, {"in_preview_panel": "true", "mode": ""})
    assert preview.status_code == 200 and "적립 기준 안내" in preview.content.decode()
    policy = preview["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "frame-ancestors 'none'" not in policy
    assert "script-src 'self'" in policy  # otherwise the shop's own policy: no inline script
    # the page itself, outside the CMS, is never framed
    assert "frame-ancestors 'none'" in client.get(disclosure.url)["Content-Security-Policy"]

"""Reads of the CMS pages that other parts ask for."""

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.db.models.functions import Length, Substr
from django.utils.translation import get_language
from wagtail.models import Locale, PageViewRestriction, Site

from core.request_memo import remembered
from mileage.selectors import checkout_available

from .models import EarnBaseDisclosurePage, MerchantDetails

LIVE_DISCLOSURE = "cms_pages.live_disclosure"
MILEAGE_OFFERED = "cms_pages.mileage_offered"


def live_disclosure() -> EarnBaseDisclosurePage | None:
    """The published 적립 기준 안내 (docs/policy.md E1) in the shop's own language (LANGUAGE_CODE, Korean): checkout
    offers mileage only while it is live and public — a translation published beside it neither replaces it nor
    keeps the button on without it. Read once per request (the order form and the order it places ask for it)."""
    return remembered(LIVE_DISCLOSURE, lambda: EarnBaseDisclosurePage.objects.live().exclude(_private).filter(
        locale__language_code=settings.LANGUAGE_CODE).first())


def mileage_offered() -> bool:
    """Whether the shop offers Naver Mileage now (the service on, its 적립 기준 안내 published: live_disclosure): what
    the product page and the product cards show the earn by. Read once per request."""
    return remembered(MILEAGE_OFFERED, lambda: checkout_available(
        disclosure_published=live_disclosure() is not None)[0])


def reader_disclosure() -> EarnBaseDisclosurePage | None:
    """The 적립 기준 안내 a link shows the reader: its translation in the reader's language when one is published,
    else the shop's own (live_disclosure), which says it is untranslated; None while that one is not live."""
    disclosure = live_disclosure()
    if disclosure is None or disclosure.locale.language_code == (get_language() or settings.LANGUAGE_CODE):
        return disclosure
    return (EarnBaseDisclosurePage.objects.live().exclude(_private).filter(
        translation_key=disclosure.translation_key, locale__language_code=get_language()).first() or disclosure)


def live_in_reader_language(page_model):
    """The live page of `page_model` (one per locale) in the reader's language where the editors translated it, else
    the one there is; a template compares its locale with the reader's and says when it is shown untranslated."""
    live = page_model.objects.live()
    return live.filter(locale=Locale.get_active()).first() or live.first()


# Wagtail's `.public()` in one query: no view restriction on the page or on an ancestor (a restricted page's path is
# a prefix of every page below it), instead of reading the restrictions first
_private = Exists(PageViewRestriction.objects.filter(
    page__path=Substr(OuterRef("path"), 1, Length("page__path"))))


MERCHANT_KEY = "shop:merchant-details"
MERCHANT_CACHE_SECONDS = 300


def merchant_rows(request=None) -> list[tuple[str, str]]:
    """상호, 대표자, 사업자등록번호, … of the merchant (the Wagtail site setting), for the shop's footer and the
    receipts; cached, and cleared when the setting is saved (cms_pages/apps.py)."""
    key = f"{MERCHANT_KEY}:{get_language() or ''}"  # the labels are in the reader's language
    rows = cache.get(key)
    if rows is None:
        site = (Site.find_for_request(request) if request is not None else None) or Site.objects.filter(
            is_default_site=True).first()
        rows = MerchantDetails.for_site(site).as_rows() if site is not None else []
        cache.set(key, rows, MERCHANT_CACHE_SECONDS)
    return rows


def merchant_rows_forget(**kwargs) -> None:
    cache.delete_many([f"{MERCHANT_KEY}:{code}" for code, _name in settings.LANGUAGES])

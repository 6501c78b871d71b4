"""Wagtail pages of the shop: the storefront home and the mileage pages edited by merchant editors.

Numbers (rates, caps, days) are never typed into page text: the disclosure and exchange pages render them live
from the mileage app, so a change of the merchant's settings shows at once.
"""

import html
import json
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import SimpleLazyObject
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page, Site

from mileage.policy.constants import MAX_BALANCE_PER_BUYER_WON, MAX_EARN_PER_ORDER_WON, MIN_USE_WON
from mileage.selectors import disclosure_rules

from .blocks import PageBodyBlock

RICH = ["h2", "h3", "bold", "italic", "link", "ol", "ul"]

# What an editor must not type, because the pages render it live: a rate ("1%", "1.5 %", "3 퍼센트", "1 percent"),
# and the amounts of the use and earn rules (500원, 20,000원, 500,000원, also as 2만원 / 50만원, ₩20,000 or 20,000 KRW)
# wherever they stand.
_RULE_AMOUNT = "|".join(f"{won:,}|{won}" for won in (MAX_BALANCE_PER_BUYER_WON, MAX_EARN_PER_ORDER_WON, MIN_USE_WON))
TYPED_RULE = re.compile(
    r"[0-9]+(?:\.[0-9]+)?\s*(?:%|퍼센트|프로(?![가-힣])|percent\b|per\s+cent\b)"
    rf"|(?<![0-9,.])(?:{_RULE_AMOUNT})\s*(?:원|KRW|won\b)"
    rf"|(?:₩|KRW)\s*(?:{_RULE_AMOUNT})(?![0-9,])"
    rf"|(?<![0-9,.]){MAX_EARN_PER_ORDER_WON // 10_000}\s*만\s*원|(?<![0-9,.]){MAX_BALANCE_PER_BUYER_WON // 10_000}\s*만\s*원",
    re.ASCII | re.IGNORECASE)

# ... and, in a sentence about the mileage, any amount of money (a wrong cap or minimum contradicts the live rules
# as much as the right one repeats them), and when mileage is earned or usable or how long an ad's visit counts
# (E7's days, I3's hours): a number of days after which, or of hours. A price in a sentence about something else
# (5,000원 상품), a date (12월 15일) and a period within which something may be done (7일 이내 교환) are the shop's
# own words.
_MILEAGE_SENTENCE = re.compile(r"[^.!?\n。]*(?:마일리지|적립|mileage|earn)[^.!?\n。]*", re.IGNORECASE)
TYPED_AMOUNT = re.compile(
    r"(?<![0-9,])[0-9][0-9,]*\s*(?:만\s*)?(?:원|won\b|KRW\b)|(?:₩|KRW)\s*[0-9][0-9,]*", re.ASCII | re.IGNORECASE)
TYPED_PERIOD = re.compile(
    r"(?<![0-9])(?<!월)(?<!월 )[0-9]+\s*(?:일\s*(?:후|뒤|이후|이 지나|가 지나|지나|동안|간)|시간)"
    r"|(?<![0-9])[0-9]+\s*(?:days?\s+(?:after|later|from)|hours?\b)|\bafter\s+[0-9]+\s*days?\b",
    re.IGNORECASE)


def typed_rule(text: str) -> str | None:
    """The first rule number typed into `text` (see TYPED_RULE, TYPED_AMOUNT, TYPED_PERIOD), or None; full-width
    digits and signs (２０,０００원, １％) read as the plain ones."""
    text = unicodedata.normalize("NFKC", text)
    found = TYPED_RULE.search(text)
    if found:
        return found.group(0)
    for sentence in _MILEAGE_SENTENCE.finditer(text):
        typed = TYPED_AMOUNT.search(sentence.group(0)) or TYPED_PERIOD.search(sentence.group(0))
        if typed:
            return typed.group(0).strip()
    return None


_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|div|blockquote)>|<br\s*/?>", re.IGNORECASE)


class RulesNotTyped:
    """A page whose text may not carry the mileage rules' numbers (STYLE: they are rendered live from the mileage
    app, so a change of the merchant's settings shows at once and no page states an old rate). Publishing or saving
    a draft that types one is refused, with what was found."""

    # the promote tab's too: the search description is shown under the page's card on the home page
    text_fields = ("title", "intro", "summary", "body", "seo_title", "search_description")

    def clean(self):
        super().clean()
        errors = {}
        for name in self.text_fields:
            if not hasattr(self, name):
                continue
            value = getattr(self, name)
            # each block's text and each paragraph a sentence apart: a price in one is not read into the mileage
            # sentence of the next
            raw = json.dumps(list(value.raw_data), ensure_ascii=False, default=str).replace('"', "\n") \
                if hasattr(value, "raw_data") else str(value or "")
            found = typed_rule(html.unescape(strip_tags(_BLOCK_END.sub("\n", raw))))
            if found:
                errors[name] = _("적립률, 사용·적립 한도, 적립금을 쓸 수 있게 되는 시점 같은 기준의 숫자(«%(found)s»)는 직접 쓰지 "
                                 "마세요. 적립 기준 안내와 주문서에는 늘 지금의 기준이 자동으로 나옵니다.") % {"found": found}
        if errors:
            raise ValidationError(errors)


class ScheduleWithinReach:
    """A page's 게시 예약 (go live, expiry) is a moment the shop can reach: from 2000 to 9998 (year 1, typed or sent,
    cannot be kept in Seoul time and would fail the save)."""

    def clean(self):
        super().clean()
        errors = {}
        for name in ("go_live_at", "expire_at"):
            value = getattr(self, name, None)
            if value is not None and not 2000 <= value.year <= 9998:
                errors[name] = _("게시 예약 일시는 2000년부터 9998년 사이로 입력해 주세요.")
        if errors:
            raise ValidationError(errors)


class HomePage(RulesNotTyped, ScheduleWithinReach, Page):
    """The storefront's root: says what the shop is and links the policy pages and the catalog."""

    intro = RichTextField(_("소개"), blank=True, features=RICH)
    body = StreamField(PageBodyBlock(), blank=True, verbose_name=_("본문"))

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms_pages.ServiceOverviewPage", "cms_pages.EarnBaseDisclosurePage",
                     "cms_pages.ExchangePolicyPage", "cms_pages.HelpIndexPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("홈")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["buyer_pages"] = self.get_children().live().in_menu().specific()  # the guides, as cards
        # the use and earn figures, live (never typed into the intro); the template shows them while the shop offers
        # the mileage (`{% mileage_offered %}`: the one reading of it, which checkout follows too)
        context["rules"] = SimpleLazyObject(disclosure_rules)  # read only when the template shows them
        return context


class ServiceOverviewPage(RulesNotTyped, ScheduleWithinReach, Page):
    """서비스 소개: why buyers and the shop gain from Naver Mileage (marketing, from the manual's overview)."""

    body = StreamField(PageBodyBlock(), blank=True, verbose_name=_("본문"))

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = ["cms_pages.HomePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1
    template = "cms_pages/content_page.html"

    class Meta:
        verbose_name = _("서비스 소개")


class NoticePage(RulesNotTyped, ScheduleWithinReach, Page):
    """A policy notice directly under the home page, one of its kind per site: editor text around a block of
    rules that the template renders live from the mileage app."""

    intro = RichTextField(_("안내문"), blank=True, features=RICH)
    body = StreamField(PageBodyBlock(), blank=True, verbose_name=_("본문"))

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["cms_pages.HomePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1

    class Meta:
        abstract = True


class EarnBaseDisclosurePage(NoticePage):
    """적립 기준 안내: the disclosure docs/policy.md E1 makes mandatory. Linked from every order form; the rules
    block is rendered live from the merchant's settings. One per site; checkout offers mileage only while it
    is live."""

    class Meta:
        verbose_name = _("적립 기준 안내")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["rules"] = disclosure_rules()
        return context


class ExchangePolicyPage(NoticePage):
    """교환 정책 안내: the notice the manual asks shops to publish before exchanges (L5); shown on the order form
    help and in the operator's exchange screen."""

    class Meta:
        verbose_name = _("교환 정책 안내")


class HelpIndexPage(RulesNotTyped, ScheduleWithinReach, Page):
    """도움말: the index of help and FAQ pages."""

    intro = RichTextField(_("소개"), blank=True, features=RICH)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["cms_pages.HomePage"]
    subpage_types = ["cms_pages.HelpPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("도움말 목록")


class HelpPage(RulesNotTyped, ScheduleWithinReach, Page):
    """A help or FAQ page under the help index."""

    summary = models.CharField(_("요약"), max_length=200, blank=True)
    body = StreamField(PageBodyBlock(), blank=True, verbose_name=_("본문"))

    content_panels = Page.content_panels + [FieldPanel("summary"), FieldPanel("body")]
    parent_page_types = ["cms_pages.HelpIndexPage"]
    subpage_types: list[str] = []
    template = "cms_pages/content_page.html"

    class Meta:
        verbose_name = _("도움말")


@register_setting(icon="site")
class MerchantDetails(BaseSiteSetting):
    """The shop's business details that Korean law asks an online shop to show (footer) and a 영수증 to carry.

    One place for an operator or editor to keep them (Wagtail admin › 설정 › 사업자 정보); the storefront's footer and
    the PDF receipt read them from here.
    """

    company_name = models.CharField(_("상호"), max_length=100, blank=True)
    representative = models.CharField(_("대표자"), max_length=50, blank=True)
    business_number = models.CharField(_("사업자등록번호"), max_length=20, blank=True)
    address = models.CharField(_("주소"), max_length=200, blank=True)
    mail_order_number = models.CharField(_("통신판매업 신고번호"), max_length=50, blank=True)
    phone = models.CharField(_("연락처"), max_length=50, blank=True)
    email = models.EmailField(_("이메일"), blank=True)
    # 무통장입금: the account buyers transfer to (shown on the order form, 주문완료, My Page and the receipt)
    deposit_bank = models.CharField(_("무통장입금 은행"), max_length=40, blank=True)
    deposit_account_no = models.CharField(_("무통장입금 계좌번호"), max_length=40, blank=True)
    deposit_holder = models.CharField(_("무통장입금 예금주"), max_length=40, blank=True)

    panels = [FieldPanel("company_name"), FieldPanel("representative"), FieldPanel("business_number"),
              FieldPanel("address"), FieldPanel("mail_order_number"), FieldPanel("phone"), FieldPanel("email"),
              FieldPanel("deposit_bank"), FieldPanel("deposit_account_no"), FieldPanel("deposit_holder")]

    class Meta:
        verbose_name = _("사업자 정보")

    # what a buyer copies from the footer, the order form and the receipt: digits, grouped by hyphens
    FORMATS = {
        "business_number": (re.compile(r"[0-9]{3}-?[0-9]{2}-?[0-9]{5}"),
                            _("사업자등록번호는 123-45-67890처럼 숫자 10자리로 입력해 주세요.")),
        "phone": (re.compile(r"[0-9]{2,4}-?[0-9]{3,4}-?[0-9]{4}"),
                  _("연락처는 02-1234-5678처럼 숫자와 - 로 입력해 주세요.")),
        "deposit_account_no": (re.compile(r"[0-9][0-9-]{4,38}[0-9]"), _("계좌번호는 숫자와 - 로 입력해 주세요.")),
    }

    # what 전자상거래법 제10조 asks every online shop to show (the footer's first lines), so never saved blank
    REQUIRED = ("company_name", "representative", "business_number", "address")

    def clean(self):
        super().clean()
        errors = {}
        for name in {*self.REQUIRED, *self.FORMATS, "deposit_bank", "deposit_holder"}:  # spaces alone are nothing
            setattr(self, name, getattr(self, name).strip())
        for name in self.REQUIRED:
            if not getattr(self, name):
                errors[name] = _("%(field)s은(는) 쇼핑몰 화면 하단에 꼭 표시해야 하는 사업자 정보입니다. 입력해 주세요.") % {
                    "field": self._meta.get_field(name).verbose_name}
        for name, (pattern, message) in self.FORMATS.items():
            value = getattr(self, name)
            if value and not pattern.fullmatch(value):
                errors[name] = message
        if errors:
            raise ValidationError(errors)

    @property
    def deposit_account(self) -> str:
        """The 무통장입금 account as a buyer reads it ("기업은행 11231-23-2123 (예금주: 마일리지샵)"), or "" while any part
        of it is missing."""
        if not (self.deposit_bank and self.deposit_account_no and self.deposit_holder):
            return ""
        return _("%(bank)s %(number)s (예금주: %(holder)s)") % {
            "bank": self.deposit_bank, "number": self.deposit_account_no, "holder": self.deposit_holder}

    @classmethod
    def of_default_site(cls) -> "MerchantDetails | None":
        site = Site.objects.filter(is_default_site=True).first()
        return cls.for_site(site) if site is not None else None

    def as_rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs in the order a Korean shop's footer lists them, the empty ones left out."""
        names = ("company_name", "representative", "business_number", "address", "mail_order_number", "phone",
                 "email")
        return [(str(self._meta.get_field(n).verbose_name), getattr(self, n)) for n in names if getattr(self, n)]

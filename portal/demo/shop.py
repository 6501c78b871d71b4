"""Demo data for a newcomer's `make run`: idempotent, so running it twice changes nothing.

Demo passwords exist only here, never in the settings.
"""

from django.conf import settings as django_settings
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.template.loader import render_to_string
from wagtail.models import GroupPagePermission, Locale, Page, Site

from cms_pages.models import (
    EarnBaseDisclosurePage,
    ExchangePolicyPage,
    HelpIndexPage,
    HelpPage,
    HomePage,
    ServiceOverviewPage,
)
from mileage.models import Exclusion, MileageSettings
from portal.accounts.models import Member
from portal.accounts.services import store_points_change
from portal.catalog.models import Category, Product
from portal.demo.merchant import load_merchant_details

OPERATORS_GROUP = "운영자"
EDITORS_GROUP = "가맹점 편집자"

DEMO_API_ID = "1TWXDZ"
DEMO_HASH_KEY = "aaf23a53f426561f62e71139c5f27adfd67da711"

DEMO_LOGINS = [
    ("admin", "admin1234!", "superuser"),
    ("operator", "operator1234!", OPERATORS_GROUP),
    ("editor", "editor1234!", EDITORS_GROUP),
    ("hong", "hong1234!", "member buyer 홍길동"),
]


def rich_text(name: str) -> str:
    """The demo's rich text, written as templates/demo/<name>.html (the editors' own words once they edit it)."""
    return render_to_string(f"demo/{name}.html").strip()


def _user(username: str, password: str, **extra) -> User:
    user, created = User.objects.get_or_create(username=username, defaults=extra)
    if created:
        user.set_password(password)
        user.save()
    return user


def _groups() -> tuple[Group, Group]:
    operators, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
    operators.permissions.add(Permission.objects.get(codename="operate_console", content_type__app_label="orders"))
    # Operators unlock a login or a guest lookup that django-axes locked (Django admin › Axes).
    operators.permissions.add(*Permission.objects.filter(content_type__app_label="axes", codename__in=[
        "view_accessattempt", "delete_accessattempt", "view_accessfailurelog", "view_accesslog"]))
    editors, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    editors.permissions.add(Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin"))
    return operators, editors


def _catalog() -> None:
    top, _ = Category.objects.get_or_create(slug="cat-1", defaults={"name": "대분류 1", "position": 1})
    clothes, _ = Category.objects.get_or_create(slug="clothes", defaults={"name": "의류", "position": 2})
    gifts, _ = Category.objects.get_or_create(slug="gift-certificates", defaults={"name": "상품권", "position": 3})
    gold, _ = Category.objects.get_or_create(slug="gold", defaults={"name": "골드바", "position": 4})
    for n in range(1, 9):
        Product.objects.get_or_create(code=str(n), defaults={
            "name": f"샘플상품 {n}", "category": top, "price_won": 5_000 * n, "list_price_won": 5_000 * n,
            "manufacturer": "샘플", "origin": "샘플"})
    Product.objects.get_or_create(code="D0SELF0012179", defaults={
        "name": "스탠다드 5부 셔츠", "category": clothes, "price_won": 21_000, "list_price_won": 32_000,
        "manufacturer": "셀프", "origin": "국내"})
    gift, _ = Product.objects.get_or_create(code="GIFT-50000", defaults={
        "name": "문화상품권 5만원권", "category": gifts, "price_won": 50_000, "manufacturer": "한국문화진흥"})
    bar, _ = Product.objects.get_or_create(code="GOLD-10G", defaults={
        "name": "순금 골드바 10g", "category": gold, "price_won": 1_200_000, "manufacturer": "한국금거래소"})
    Exclusion.objects.get_or_create(product=gift, defaults={"reason": "상품권"})
    Exclusion.objects.get_or_create(product=bar, defaults={"reason": "금"})


def _home() -> HomePage:
    home = HomePage.objects.first()
    if home is None:
        Locale.objects.get_or_create(language_code=django_settings.LANGUAGE_CODE)
        root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
        # Wagtail's own "Welcome" placeholder gives way to the shop's home page.
        for placeholder in root.get_children().filter(content_type__model="page", slug="home"):
            Site.objects.filter(root_page=placeholder).delete()
            placeholder.delete()
        home = root.add_child(instance=HomePage(
            title="마일리지 샵",
            slug="home",
            intro=rich_text("home_intro"),
        ))
        home.save_revision().publish()
    Site.objects.update_or_create(is_default_site=True, defaults={
        "hostname": "localhost", "port": 80, "root_page": home, "site_name": "마일리지 샵"})
    return home


def overview_body() -> list:
    return [
        ("hero", {"heading": "네이버 마일리지", "text": "NAVER 마일리지는 네이버 아이디 하나로 가맹점 어디서나 편리하게 "
                                                       "적립 및 사용할 수 있는 통합 적립금입니다."}),
        ("paragraph", rich_text("overview_benefits")),
        ("benefits", [
            {"number": "01", "title": "고객유입 증대",
             "text": "국내 최대 포털 네이버의 회원이 고객으로 확보됩니다. 네이버 키워드 광고 및 지식쇼핑에 아이콘이 노출되어 "
                     "더 많은 고객의 사이트 방문을 유도합니다."},
            {"number": "02", "title": "매출증대 효과",
             "text": "고객이 선호하는 네이버 마일리지를 적립받고, 편리하게 사용할 수 있어 매출증대에 도움을 드립니다. "
                     "네이버 키워드 광고 및 지식쇼핑을 통한 유입 시 네이버에서 추가 적립금을 쌓아 줍니다."},
            {"number": "03", "title": "마케팅수단 제공", "text": "네이버 내 다양한 노출 기회 및 마케팅 수단을 제공해 드립니다."},
        ]),
        ("paragraph", rich_text("overview_joining")),
        ("steps", [
            {"title": "가입신청", "text": "네이버 마일리지 가맹점 가입 페이지에서 가입항목을 입력합니다."},
            {"title": "네이버 심사", "text": "심사가 완료되면 인증키 2개(가맹점 API ID, 해쉬키)가 발급됩니다."},
            {"title": "노출설정 및 셋팅", "text": "발급받은 인증키를 운영자 화면의 노출설정 및 셋팅에 입력합니다."},
            {"title": "예외상품설정", "text": "상품권/금 등 적립 제외 상품을 예외상품으로 설정합니다."},
        ]),
        ("paragraph", rich_text("overview_using")),
        ("steps", [
            {"title": "적립률 확인", "text": "상품상세페이지에서 네이버 마일리지 적립률을 확인합니다."},
            {"title": "적립/사용", "text": "주문서 작성 페이지에서 \"적립/사용\" 버튼을 눌러 네이버 아이디로 로그인합니다."},
            {"title": "결제", "text": "사용할 금액을 입력하고 결제를 마치면 적립이 예정됩니다."},
        ]),
    ]


def _child(parent, model, slug: str, **fields):
    existing = model.objects.child_of(parent).filter(slug=slug).first()
    if existing is not None:
        return existing
    page = parent.add_child(instance=model(slug=slug, **fields))
    page.save_revision().publish()
    return page


def _pages(home: HomePage) -> None:
    _child(home, ServiceOverviewPage, "service", title="서비스 소개", show_in_menus=True, body=overview_body(),
           search_description="네이버 마일리지를 적립하고 쓰는 방법과 그 혜택")
    _child(home, EarnBaseDisclosurePage, "earn-base", title="네이버 마일리지 적립 기준 안내", show_in_menus=True,
           intro=rich_text("earn_base_intro"), search_description="어떤 금액에 몇 % 적립되는지, 언제부터 쓸 수 있는지")
    _child(home, ExchangePolicyPage, "exchange-policy", title="교환 정책 안내", show_in_menus=True,
           intro=rich_text("exchange_policy_intro"), search_description="상품을 교환할 때 적립 기준이 정해지는 방법")
    help_index = _child(home, HelpIndexPage, "help", title="도움말", show_in_menus=True,
                        intro=rich_text("help_intro"), search_description="적립, 사용, 취소와 반품에 대해 자주 묻는 질문")
    _child(help_index, HelpPage, "how-to-use", title="네이버 마일리지는 어떻게 사용하나요?",
           summary="주문서의 적립/사용 버튼으로 적립과 사용을 함께 합니다.",
           body=[("faq", {"question": "어디서 사용하나요?",
                          "answer": rich_text("faq_how_to_use")})])
    _child(help_index, HelpPage, "cancel-and-return", title="주문을 취소하거나 반품하면 어떻게 되나요?",
           summary="적립은 취소되고, 사용한 마일리지는 돌려 드립니다.",
           body=[("faq", {"question": "취소/반품 시 마일리지는?",
                          "answer": rich_text("faq_cancel_and_return")})])


@transaction.atomic
def load_demo() -> None:
    operators, editors = _groups()
    _user("admin", "admin1234!", is_staff=True, is_superuser=True, email="admin@example.com")
    operator = _user("operator", "operator1234!", is_staff=True, first_name="운영자")
    operator.groups.add(operators)
    editor = _user("editor", "editor1234!", first_name="편집자")
    editor.groups.add(editors)
    # the shop's 개인정보 보호책임자: an operator who also reads the access log and may reveal a buyer's data
    privacy = _user("privacy", "privacy1234!", is_staff=True, first_name="개인정보 보호책임자")
    privacy.groups.add(operators)
    privacy.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="accesslog", codename__in=["oversee_access_log", "view_personal_data"]))
    hong = _user("hong", "hong1234!", email="hong@example.com", first_name="길동", last_name="홍")
    member, created = Member.objects.get_or_create(user=hong, defaults={
        "name": "홍길동", "phone": "010-0000-0000", "zipcode": "07071",
        "address": "서울 동작구 신대방2동 전문건설회관빌딩", "address_detail": "28층"})
    if created:  # his first 1,000원 of 적립금, on his ledger like every other entry
        store_points_change(member=member, delta_won=1_000, reason="가입 축하 적립금", idempotency_key="demo:hong:welcome")
    _catalog()
    settings = MileageSettings.load()
    if not settings.api_id:
        settings.api_id, settings.hash_key = DEMO_API_ID, DEMO_HASH_KEY
        settings.service_enabled = True
        settings.save()
    home = _home()
    _pages(home)
    # the editors' pages: every language's tree (the root's, as Wagtail's own Editors group has them), so that a page
    # they translate (simple translation copies it under the English home) is theirs to edit and publish too
    root = Page.get_first_root_node()
    for codename in ("add_page", "change_page", "publish_page", "lock_page", "unlock_page"):
        GroupPagePermission.objects.get_or_create(
            group=editors, page=root, permission=Permission.objects.get(
                codename=codename, content_type__app_label="wagtailcore"))
    editors.permissions.add(Permission.objects.get(codename="submit_translation",
                                                   content_type__app_label="simple_translation"))
    Locale.objects.get_or_create(language_code="en")
    load_merchant_details()

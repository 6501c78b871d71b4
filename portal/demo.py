"""Demo data for a newcomer's `make run`: idempotent, so running it twice changes nothing.

Demo passwords exist only here, never in the settings.
"""

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from wagtail.models import Page, Site

from cms_pages.models import HomePage
from mileage.models import Exclusion, MileageSettings
from portal.accounts.models import Member
from portal.catalog.models import Category, Product

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


def _user(username: str, password: str, **extra) -> User:
    user, created = User.objects.get_or_create(username=username, defaults=extra)
    if created:
        user.set_password(password)
        user.save()
    return user


def _groups() -> tuple[Group, Group]:
    operators, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
    operators.permissions.add(Permission.objects.get(codename="operate_console", content_type__app_label="orders"))
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
        root = Page.get_first_root_node()
        # Wagtail's own "Welcome" placeholder gives way to the shop's home page.
        for placeholder in root.get_children().filter(content_type__model="page", slug="home"):
            Site.objects.filter(root_page=placeholder).delete()
            placeholder.delete()
        home = root.add_child(instance=HomePage(
            title="마일리지 샵",
            slug="home",
            intro="<p>네이버 마일리지 가맹점입니다. 구매할 때 네이버 마일리지를 적립하고, 가진 마일리지를 "
                  "500원부터 사용할 수 있습니다.</p>",
        ))
        home.save_revision().publish()
    Site.objects.update_or_create(is_default_site=True, defaults={
        "hostname": "localhost", "port": 80, "root_page": home, "site_name": "마일리지 샵"})
    return home


@transaction.atomic
def load_demo() -> None:
    operators, editors = _groups()
    _user("admin", "admin1234!", is_staff=True, is_superuser=True, email="admin@example.com")
    operator = _user("operator", "operator1234!", is_staff=True, first_name="운영자")
    operator.groups.add(operators)
    editor = _user("editor", "editor1234!", first_name="편집자")
    editor.groups.add(editors)
    hong = _user("hong", "hong1234!", email="hong@example.com", first_name="길동", last_name="홍")
    Member.objects.get_or_create(user=hong, defaults={
        "name": "홍길동", "phone": "010-0000-0000", "zipcode": "07071",
        "address": "서울 동작구 신대방2동 전문건설회관빌딩", "address_detail": "28층", "store_points_won": 1_000})
    _catalog()
    settings = MileageSettings.load()
    if not settings.api_id:
        settings.api_id, settings.hash_key = DEMO_API_ID, DEMO_HASH_KEY
        settings.service_enabled = True
        settings.save()
    _home()

"""The storefront's header (category navigation) and footer (the merchant's business details).

Both read from the cache: a product page costs no more queries than before the redesign. The cache is cleared when a
category is saved (portal/storefront/apps.py) or the merchant details are (cms_pages/apps.py).
"""

from django import template
from django.core.cache import cache

from cms_pages.selectors import merchant_rows, mileage_offered, reader_disclosure
from portal import i18n
from portal.accounts.roles import OPERATOR_PERMISSION
from portal.catalog.models import Category, Product

register = template.Library()


# a product card advertises the earn only while the shop offers it, as the product page does
register.simple_tag(mileage_offered, name="mileage_offered")

CATEGORIES_KEY = "shop:categories"
CACHE_SECONDS = 300


def categories() -> list[dict]:
    rows = cache.get(CATEGORIES_KEY)
    if rows is None:
        rows = list(Category.objects.filter(parent__isnull=True).values("name", "slug"))
        cache.set(CATEGORIES_KEY, rows, CACHE_SECONDS)
    return rows


def clear_cache(**kwargs) -> None:
    cache.delete(CATEGORIES_KEY)


@register.inclusion_tag("storefront/includes/header.html", takes_context=True)
def shop_header(context):
    request = context.get("request")
    current = ""
    match = getattr(request, "resolver_match", None)
    if match and match.url_name == "category":
        current = match.kwargs.get("slug", "")
    user = context.get("user")
    # an operator looking at the shop has the console one click away (a buyer's permissions are not read)
    console = bool(user is not None and user.is_authenticated and user.is_staff and user.has_perm(OPERATOR_PERMISSION))
    greeting = ""
    if user is not None and user.is_authenticated:  # a member is greeted by name (홍길동님), anyone else by login
        member = getattr(user, "member", None)
        greeting = member.name if member is not None and member.name else user.get_username()
    return {"request": request, "user": user, "categories": categories(), "current": current, "console": console,
            "greeting": greeting,
            "cart_count": sum(dict(request.session.get("cart", {})).values()) if request is not None else 0}


@register.inclusion_tag("storefront/includes/footer.html", takes_context=True)
def shop_footer(context):
    # the 적립 기준 안내 link only while the shop's page is published (unpublished, it would lead to a 404)
    return {"request": context.get("request"), "merchant": merchant_rows(context.get("request")),
            "disclosure_live": reader_disclosure() is not None}


@register.simple_tag
def localized_path(url: str) -> str:
    """`{% localized_path "/earn-base/" %}`: a page's address in the active language ("/en/earn-base/" in English), so
    a link never drops the language the buyer chose (portal/i18n.py)."""
    return i18n.localized_path(str(url or "/"))


@register.filter
def discount_percent(product) -> int:
    """How much below 기존 판매가 the price is, in whole percent (rounded down, as shops show it)."""
    if not product.list_price_won or product.list_price_won <= product.price_won:
        return 0
    return (product.list_price_won - product.price_won) * 100 // product.list_price_won


@register.inclusion_tag("storefront/includes/featured_products.html")
def featured_products(count: int = 8):
    """The newest products on display, as the catalog shows them (the home page's 새로 들어온 상품)."""
    products = list(Product.objects.filter(is_displayed=True).select_related("mileage_exclusion").order_by("-id")[:count])
    return {"products": products}

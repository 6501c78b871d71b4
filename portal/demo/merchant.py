"""The demo shop's look: the merchant's business details and product pictures drawn with Pillow.

Idempotent like the rest of the demo: details are filled only where empty, and a picture is drawn only for a product
without one (its file name is fixed, so an existing file is reused rather than drawn again).
"""

import io

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cms_pages.models import MerchantDetails
from portal.catalog.models import Product

DEMO_MERCHANT = {
    "company_name": "(주)마일리지샵", "representative": "홍길동", "business_number": "123-45-67890",
    "address": "서울특별시 동작구 보라매로5길 15 전문건설회관 28층", "mail_order_number": "제2026-서울동작-0123호",
    "phone": "02-1234-5678", "email": "help@mileage-shop.example",
}
# the 무통장입금 account buyers transfer to (kept beside the business details, shown with the order)
DEMO_DEPOSIT_ACCOUNT = {"deposit_bank": "기업은행", "deposit_account_no": "11231-23-2123",
                        "deposit_holder": "(주)마일리지샵"}

# (background, accent) per product code; the rest take the default pair.
PALETTE = {"1": ("#e8f5ee", "#03c75a"), "2": ("#eef2ff", "#4f46e5"), "3": ("#fff7e6", "#f59e0b"),
           "4": ("#fdf2f8", "#db2777"), "5": ("#ecfeff", "#0891b2"), "6": ("#f5f3ff", "#7c3aed"),
           "7": ("#fef2f2", "#dc2626"), "8": ("#f0fdf4", "#16a34a"), "D0SELF0012179": ("#f1f5f9", "#334155"),
           "GIFT-50000": ("#fffbeb", "#b45309"), "GOLD-10G": ("#fefce8", "#a16207")}
SIZE = 480


def load_merchant_details() -> None:
    details = MerchantDetails.of_default_site()
    if details is None:
        return
    demo = {**DEMO_MERCHANT, **DEMO_DEPOSIT_ACCOUNT}
    changed = [name for name in demo if not getattr(details, name)]
    for name in changed:
        setattr(details, name, demo[name])
    if changed:
        details.save()
    # merchant editors keep them in the Wagtail admin (설정 › 사업자 정보); operators stay out of the CMS
    permission = Permission.objects.get(codename="change_merchantdetails", content_type__app_label="cms_pages")
    for group in Group.objects.filter(name="가맹점 편집자"):
        group.permissions.add(permission)


def _draw(name: str, code: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    background, accent = PALETTE.get(code, ("#f3f4f6", "#111827"))
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image)
    # a simple still life: a soft disc, a box with a lid, the shop's mark
    draw.ellipse((70, 300, 410, 420), fill=_mix(background, "#000000", .06))
    draw.rounded_rectangle((130, 140, 350, 360), radius=28, fill=accent)
    draw.rounded_rectangle((115, 120, 365, 175), radius=18, fill=_mix(accent, "#000000", .18))
    draw.rectangle((228, 120, 252, 360), fill=_mix(accent, "#ffffff", .45))
    fonts = settings.BASE_DIR / "static" / "fonts"
    title = ImageFont.truetype(str(fonts / "NanumSquareB.ttf"), 34)
    small = ImageFont.truetype(str(fonts / "NanumSquareR.ttf"), 20)
    draw.text((SIZE / 2, 60), name, font=title, fill="#1d1d1f", anchor="mm")
    draw.text((SIZE / 2, 450), "MILEAGE SHOP", font=small, fill=_mix(accent, "#000000", .2), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _mix(color: str, other: str, amount: float) -> str:
    a = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b, strict=True))


def load_product_images() -> int:
    """Draw a picture for every product without one; returns how many products got one."""
    count = 0
    for product in Product.objects.filter(image="").order_by("id"):
        path = f"products/demo-{product.code.lower()}.png"
        if not default_storage.exists(path):
            default_storage.save(path, ContentFile(_draw(product.name, product.code)))
        product.image.name = path
        product.save(update_fields=["image"])
        count += 1
    return count

"""The shop's catalog: categories and products (integer won prices)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    name = models.CharField(_("분류명"), max_length=100)
    slug = models.SlugField(_("URL 이름"), max_length=100, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    position = models.PositiveIntegerField(_("순서"), default=0)

    class Meta:
        verbose_name = _("상품분류")
        verbose_name_plural = _("상품분류")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> str:
        """'대분류 1>중분류' as the provider's item field wants it."""
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return ">".join(reversed(names))


class Product(models.Model):
    code = models.CharField(_("상품코드"), max_length=40, unique=True)
    name = models.CharField(_("상품명"), max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("상품분류"))
    price_won = models.BigIntegerField(_("판매가"))
    list_price_won = models.BigIntegerField(_("소비자가"), null=True, blank=True)
    manufacturer = models.CharField(_("제조사"), max_length=100, blank=True)
    origin = models.CharField(_("원산지"), max_length=100, blank=True)
    is_displayed = models.BooleanField(_("진열상태"), default=True)
    description = models.TextField(_("상품설명"), blank=True)
    image = models.ImageField(_("상품 이미지"), upload_to="products/", blank=True)
    created_at = models.DateTimeField(_("등록일"), auto_now_add=True)

    class Meta:
        verbose_name = _("상품")
        verbose_name_plural = _("상품")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["name"], name="product_name_idx"),
            models.Index(fields=["category", "is_displayed"], name="product_cat_disp_idx"),
            models.Index(fields=["is_displayed", "-id"], name="product_disp_id_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price_won__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(
                condition=Q(list_price_won__isnull=True) | Q(list_price_won__gte=0),
                name="product_list_price_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

"""Wagtail pages of the shop: the storefront home and the mileage policy pages edited by merchant editors."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from .blocks import PageBodyBlock


class HomePage(Page):
    """The storefront's root: says what the shop is and links the policy pages and the catalog."""

    intro = RichTextField(_("소개"), blank=True)
    body = StreamField(PageBodyBlock(), blank=True, verbose_name=_("본문"))

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["wagtailcore.Page"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("홈")

"""Wagtail hooks: unpublishing the earn-base disclosure switches the checkout's mileage button off (the order form
asks `mileage.selectors.checkout_available` whether it is live) and leaves a notice for operators; the admin's
pages carry the shop's Korean typeface (static/css/cms.css)."""

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_noop
from wagtail import hooks
from wagtail.signals import page_published, page_unpublished

from core.request_memo import forget
from mileage.models import OperatorNotice

from .models import EarnBaseDisclosurePage
from .selectors import LIVE_DISCLOSURE

# Stored in Korean (the notice's key); shown through gettext by OperatorNotice.text.
UNPUBLISHED_NOTICE = gettext_noop("적립 기준 안내 페이지가 게시 중단되어 주문서의 네이버 마일리지 적립/사용 버튼이 꺼졌습니다.")


def _on_unpublished(sender, instance, **kwargs):
    forget(LIVE_DISCLOSURE)
    OperatorNotice.objects.create(message=UNPUBLISHED_NOTICE)


def _on_published(sender, instance, **kwargs):
    forget(LIVE_DISCLOSURE)
    OperatorNotice.objects.filter(message=UNPUBLISHED_NOTICE, resolved_at__isnull=True).update(
        resolved_at=timezone.now())


page_unpublished.connect(_on_unpublished, sender=EarnBaseDisclosurePage, dispatch_uid="disclosure-unpublished")
page_published.connect(_on_published, sender=EarnBaseDisclosurePage, dispatch_uid="disclosure-published")


@hooks.register("insert_global_admin_css")
def korean_typeface():
    return render_to_string("cms_pages/admin_css.html")

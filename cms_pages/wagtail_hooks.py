"""Wagtail hooks: unpublishing the earn-base disclosure switches the checkout's mileage button off (the order form
asks `mileage.selectors.checkout_available` whether it is live) and leaves a notice for operators; the disclosure is
never deleted (every order keeps the revision it was placed under, which 주문상세정보 shows as it was), alone, with an
ancestor, or in a bulk action; the admin's pages carry the shop's Korean typeface (static/css/cms.css)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from wagtail import hooks
from wagtail.signals import page_published, page_unpublished

from core.request_memo import forget
from mileage.models import OperatorNotice

from .models import EarnBaseDisclosurePage
from .selectors import LIVE_DISCLOSURE, live_disclosure

# Stored in Korean (the notice's key); shown through gettext by OperatorNotice.text.
UNPUBLISHED_NOTICE = gettext_noop("적립 기준 안내 페이지가 게시 중단되어 주문서의 네이버 마일리지 적립/사용 버튼이 꺼졌습니다.")


def _on_unpublished(sender, instance, **kwargs):
    forget(LIVE_DISCLOSURE)
    if live_disclosure() is None:  # the shop's own page: a translation unpublished leaves the button on
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


def _holds_the_disclosure(pages) -> bool:
    return any(EarnBaseDisclosurePage.objects.descendant_of(page, inclusive=True).exists() for page in pages)


def _refused(request, page):
    messages.error(request, _("적립 기준 안내는 삭제할 수 없습니다. 주문마다 주문 당시 게시된 안내를 보여 주어야 합니다. 내용을 "
                              "고치거나 게시를 중단해 주세요."))
    parent = page.get_parent()
    return redirect("wagtailadmin_explore", (parent or page).id)


@hooks.register("before_delete_page")
def keep_the_disclosure(request, page):
    if _holds_the_disclosure([page]):
        return _refused(request, page)
    return None


@hooks.register("before_bulk_action")
def keep_the_disclosure_in_bulk(request, action_type, objects, action_class_instance):
    if action_type == "delete" and _holds_the_disclosure([o for o in objects if hasattr(o, "path")]):
        return _refused(request, objects[0])
    return None

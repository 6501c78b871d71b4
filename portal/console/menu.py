"""The console's left menu, grouped as the manual's admin groups it; the breadcrumb is read from the same table."""

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Item:
    url_name: str
    title: Promise
    also: tuple[str, ...] = ()  # the screens reached from this one, which keep it highlighted
    permission: str | None = None  # shown only to holders of this permission


@dataclass(frozen=True)
class Group:
    crumbs: tuple[Promise, ...]
    items: tuple[Item, ...] = field(default_factory=tuple)


MENU = (
    Group((_("대시보드"),), (Item("console:dashboard", _("대시보드")),)),
    Group((_("주문관리"),), (
        Item("console:orders", _("주문조회/취소/교환"),
             ("console:order", "console:cancel", "console:return", "console:exchange", "console:disclosure",
              "console:payment-cancel", "console:orders-bulk")),
        Item("console:invoices", _("송장 일괄등록"), ("console:invoice-upload",)),
        Item("console:refunds", _("환불관리")),
        Item("console:outbox", _("전송 대기열")),
    )),
    Group((_("상점관리"), _("네이버마일리지")), (
        Item("console:mileage-about", _("네이버 마일리지란?")),
        Item("console:mileage-settings", _("노출설정 및 셋팅")),
        Item("console:exclusions", _("예외상품설정")),
        Item("console:rates", _("적립률")),
        Item("console:settlement", _("정산")),
    )),
    Group((_("개인정보"),), (
        Item("console:access-log", _("접속기록"), permission="accesslog.oversee_access_log"),
    )),
)

# the permissions some items ask for: a person's sidebar depends on which of them they hold
MENU_PERMISSIONS = tuple(sorted({item.permission for group in MENU for item in group.items if item.permission}))


def locate(url_name: str) -> tuple[Group, Item] | tuple[None, None]:
    for group in MENU:
        for item in group.items:
            if url_name == item.url_name or url_name in item.also:
                return group, item
    return None, None

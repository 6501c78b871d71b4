"""주문조회's bulk work on the checked orders: 입금확인 and 구매확정.

Each order goes through its own service (portal.aftersales.fulfilment), in its own transaction with its provider
call recorded in the outbox, exactly as from its detail page: one order refused (the wrong status, a rule of the
service) changes nothing of that order and stops none of the others. The result counts the orders done and names
every order that was not, with the reason. 배송처리 needs a carrier and an invoice number per order: the checked
orders go to 송장 일괄등록 (portal.console.invoice_uploads) as a prefilled template.
"""

import logging
from dataclasses import dataclass, field

from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.aftersales import fulfilment
from portal.aftersales.common import ActionError
from portal.orders.models import Order, OrderStatus
from portal.orders.services import TransitionNotAllowed

from .tables import PAGE_SIZES

log = logging.getLogger(__name__)

MAX_BULK = max(PAGE_SIZES)  # orders in one bulk action: a page's orders (the longest page of 주문조회)

BULK_ACTIONS = {
    "confirm_deposit": (fulfilment.order_confirm_deposit, gettext_lazy("입금확인")),
    "confirm_purchase": (fulfilment.order_confirm_purchase, gettext_lazy("구매확정")),
}
# the status each action leaves: an order found there was done before (pressed twice, or by another operator)
DONE_STATUS = {"confirm_deposit": OrderStatus.PAID, "confirm_purchase": OrderStatus.CONFIRMED}


@dataclass(frozen=True)
class Failure:
    number: str
    status: str  # the order's 처리상태 label when it was refused ("" for an order that does not exist)
    reason: str


@dataclass
class BulkResult:
    action: str
    done: list[str] = field(default_factory=list)  # the order numbers done, in order
    failed: list[Failure] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(BULK_ACTIONS[self.action][1])


def orders_bulk_action(*, action: str, order_ids: list[int], by) -> BulkResult:
    """`action` (a key of BULK_ACTIONS) on each of these orders, in id order (the locks' order), each on its own."""
    service, _label = BULK_ACTIONS[action]
    ids = sorted(set(order_ids))
    result = BulkResult(action)
    orders = Order.objects.filter(pk__in=ids).order_by("pk")
    found = set()
    for order in orders:
        found.add(order.pk)
        try:
            service(order=order, by=by)
        except (ActionError, TransitionNotAllowed) as exc:
            order.refresh_from_db(fields=["status"])
            label = str(OrderStatus(order.status).label)
            reason = getattr(exc, "message", str(exc))
            if order.status == DONE_STATUS[action]:  # done before (pressed twice, or by another operator)
                reason = _("이미 %(status)s된 주문입니다. 바뀐 것은 없습니다.") % {"status": label}
            result.failed.append(Failure(order.number, label, reason))
        except DatabaseError:  # this order's transaction is rolled back; the others go on
            log.exception("bulk %s of order %s failed", action, order.number)
            result.failed.append(Failure(order.number, str(OrderStatus(order.status).label),
                                         _("처리 중 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.")))
        else:
            result.done.append(order.number)
    for missing in sorted(set(ids) - found):
        result.failed.append(Failure(f"#{missing}", "", _("없는 주문입니다.")))
    return result

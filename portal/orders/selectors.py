"""Reads of orders that pages repeat (HackSoft-style selectors beside the services): everything 주문상세정보 shows in
one call, and what every buyer statement shows besides the lines (M2)."""

from dataclasses import dataclass, field, fields

from django.db.models import Prefetch
from wagtail.models import Revision

from cms_pages.models import MerchantDetails
from mileage.models import MileageEvent, MileageTransaction, OutboxMessage
from mileage.selectors import mileage_for_order

from .models import CashReceipt, Order, OrderLine, OrderStatus, OrderStatusChange, Payment
from .money import cancels_outside_refunds, collected_won


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    mileage: MileageTransaction | None
    lines: list[OrderLine]
    payment: Payment | None  # the first payment (the one the order was placed with)
    history: list[OrderStatusChange]
    events: list[MileageEvent]
    outbox: list[OutboxMessage]
    refunds: list
    returns: list
    exchanges: list
    disclosure_revision_id: int | None  # the Wagtail revision of the rules shown at placement, if it still exists
    cash_receipts: list[CashReceipt] = field(default_factory=list)
    exchange_due_won: int = 0  # §9 추가 결제예정 금액 the buyer has not paid yet (exchange_due_won)
    additional_deposits: list[Payment] = field(default_factory=list)  # §9 추가입금 received (추가입금확인)
    collected_won: int = 0  # 실 결제금액: what the shop took (the payments charged), before anything went back
    cancels_outside_refunds: list = field(default_factory=list)  # 결제취소 no refund made

    @property
    def refunded_won(self) -> int:
        """The money given back: the refunds 환불완료 paid, and 결제취소 outside any refund."""
        return self.refunds_done_won + self.cancelled_outside_won

    @property
    def refunds_done_won(self) -> int:
        """The money of the refunds 환불완료 paid (환불관리's figure)."""
        return sum(refund.payout_won for refund in self.refunds if refund.status == "done")

    @property
    def cancelled_outside_won(self) -> int:
        """The money 결제취소 gave back outside any refund (not in 환불관리)."""
        return sum(cancel.amount_won for cancel in self.cancels_outside_refunds)

    @property
    def refund_waiting_won(self) -> int:
        """The money of the refunds still 환불전."""
        return sum(refund.payout_won for refund in self.refunds if refund.status == "before")

    @property
    def last_change_id(self) -> int | None:
        """The order's latest status change as this page shows it: 입금확인 and 미입금상태로 전환 send it back, so that a
        press from a page another operator's move made stale is refused (fulfilment.refuse_stale)."""
        return max((change.pk for change in self.history), default=None)

    def as_context(self) -> dict:
        return {**{field.name: getattr(self, field.name) for field in fields(self)},
                "last_change_id": self.last_change_id,
                "refunded_won": self.refunded_won, "refund_waiting_won": self.refund_waiting_won,
                "refunds_done_won": self.refunds_done_won, "cancelled_outside_won": self.cancelled_outside_won}


def placed_and_additional(payments) -> tuple:
    """An order's payments in their order split as the statements show them: the payment it was placed with (None
    before any) and the 추가입금 that came after it (an exchange's additional payments)."""
    payments = list(payments)
    return (payments[0] if payments else None), payments[1:]


def order_detail(number: str) -> OrderDetail | None:
    """주문상세정보: the order with its lines, payment, status history, mileage transaction and its events, the
    provider calls still waiting, and its refunds, returns and exchanges; None when no order has that number."""
    order = Order.objects.select_related("member__user").filter(number=number).first()
    if order is None:
        return None
    revision_id = order.disclosure_revision_id
    if revision_id:
        revision_id = revision_id if Revision.objects.filter(pk=revision_id).exists() else None
    exchanges = list(order.exchanges.select_related("created_by").prefetch_related("lines"))
    payment, additional = placed_and_additional(order.payments.order_by("id"))
    collected = collected_won(order)
    return OrderDetail(
        order=order, mileage=mileage_for_order(order), lines=list(order.lines.select_related("exchange")),
        payment=payment, additional_deposits=additional, history=list(order.status_changes.select_related("changed_by")),
        events=list(MileageEvent.objects.filter(transaction__order=order).select_related("created_by")),
        outbox=list(OutboxMessage.objects.filter(order=order)),
        refunds=list(order.refunds.all()), returns=list(order.returns.select_related("refund")),
        exchanges=exchanges, disclosure_revision_id=revision_id or None,
        cash_receipts=cash_receipts_of(order), exchange_due_won=exchange_due_won(order, exchanges=exchanges,
                                                                                 collected=collected),
        collected_won=collected, cancels_outside_refunds=cancels_outside_refunds(order))


def order_statement(order: Order) -> dict:
    """What every statement shows besides the lines (M2): the mileage used and the expected or granted earn, and the
    payment."""
    collected = collected_won(order)  # 0: nothing was paid (yet), whatever the order costs
    exchanged = order.exchanges.exists()  # read once, for what is still owed and the figures as placed
    due = exchange_due_won(order, exchanges=exchanged, collected=collected)
    payment, additional = placed_and_additional(order.payments.order_by("id"))
    return {**placed_figures(order, payment, exchanged=exchanged), "mileage": mileage_for_order(order), "payment": payment,
            "additional_deposits": additional,
            "cash_receipts": cash_receipts_of(order), "exchange_due_won": due, "collected_won": collected,
            "exchange_due_account": exchange_due_account() if due else "",
            "cancels_outside_refunds": cancels_outside_refunds(order)}


def orders_as_stated(orders) -> list[Order]:
    """A buyer's orders as My Page lists them, each with the figures its statement shows (order_statement):
    `placed_payable_won`, the 총 주문합계 금액 as placed, `exchange_due_won`, what an exchange leaves to pay, and
    `additional_deposits_won`, what its 추가입금 brought. Three queries whatever the number of orders."""
    listed = list(orders.prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("id")),
                                          "exchanges"))
    for order in listed:
        exchanged = bool(order.exchanges.all())
        payment, additional = placed_and_additional(order.payments.all())
        order.placed_payable_won = _placed_payable_won(order, payment, exchanged=exchanged)
        # an exchange's 추가입금 received (the statement's additional deposits)
        order.additional_deposits_won = sum(deposit.amount_won for deposit in additional)
        # what the shop took: the figure the order keeps for its lists (money._sync_collected), no query per order
        order.exchange_due_won = exchange_due_won(order, exchanges=exchanged, collected=order.collected_won)
    return listed


def _placed_payable_won(order: Order, payment, *, exchanged: bool) -> int:
    return payment.amount_won if exchanged and payment is not None else order.payable_won


def placed_figures(order: Order, payment, *, exchanged: bool) -> dict:
    """The goods and the amount to pay as the order was placed, which a statement's lines above its total add up to:
    an exchange changes the order's goods (and its amount by the 추가 결제예정 금액), and its difference, like a
    return's, is stated apart (추가입금, 교환, 환불). Without an exchange (`exchanged`) they are the order's own
    figures; `payment`: the order's first, the amount it was placed for."""
    if not exchanged:
        return {"placed_goods_won": order.goods_won, "placed_payable_won": order.payable_won}
    goods = sum(line.line_total_won for line in order.lines.all() if line.exchange_id is None)
    return {"placed_goods_won": goods, "placed_payable_won": _placed_payable_won(order, payment, exchanged=True)}


# an exchange happens once the order is paid; what it leaves to pay is owed from then on
_EXCHANGEABLE_OR_AFTER = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CONFIRMED)


def exchange_due_won(order: Order, *, exchanges: list | bool | None = None, collected: int | None = None) -> int:
    """The 추가 결제예정 금액 (§9) the buyer still owes after the order's exchanges, paid by 추가입금: what the order
    costs after them less what the shop took. 0 for an order without an exchange, or not paid yet (then the whole
    payment is awaited, not an exchange's part). `exchanges`: the order's exchanges, or whether it has any, when the
    caller read them already."""
    if order.status not in _EXCHANGEABLE_OR_AFTER:
        return 0
    if not (exchanges if exchanges is not None else order.exchanges.exists()):
        return 0
    return awaited_won(payable_won=order.payable_won,
                       collected_won=collected if collected is not None else collected_won(order), status=order.status)


def awaited_won(*, payable_won: int, collected_won: int, status: str) -> int:
    """What the shop still awaits of an order, from the figures its lists keep (no query): the whole 결제예정금액
    while it is 입금전, and once paid what an exchange left to pay (the order now costs more than the shop took:
    only an exchange raises an order's amount after payment) — 주문조회's and its export's figure, the same as
    주문상세정보's 결제예정금액 and 추가 결제예정 금액."""
    if status == OrderStatus.AWAITING_DEPOSIT:
        return payable_won
    if status in _EXCHANGEABLE_OR_AFTER:
        return max(0, payable_won - collected_won)
    return 0


def exchange_due_account() -> str:
    """The shop's account the buyer pays an exchange's 추가입금 into (기본정보's 입금계좌)."""
    details = MerchantDetails.of_default_site()
    return details.deposit_account if details is not None else ""


def cash_receipts_of(order: Order) -> list[CashReceipt]:
    """The order's 현금영수증, oldest first (a refund cancels one and issues the next)."""
    return list(CashReceipt.objects.filter(payment__order=order).order_by("payment_id", "sequence"))

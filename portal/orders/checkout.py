"""The checkout: price a cart, and place an order with its payment and its Naver Mileage choice.

Prices, exclusions, the offer (maxUseAmount) and the earn base are computed here on the server; the buyer's
popup choice is trusted only after its signature is verified again at placement.
"""

import secrets
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Site

from cms_pages.models import MerchantDetails
from cms_pages.selectors import live_disclosure
from mileage import wire
from mileage.models import MileageSettings, MileageTransaction
from mileage.policy import earn_amount, earn_base, earn_plan, max_use_amount, unpaid_deadline
from mileage.policy.earn_choice import NAVER
from mileage.provider import ProviderError, get_client
from mileage.selectors import disclosure_rules, order_has_mileage, req_tx_id_taken
from mileage.services.transactions import (
    Approval,
    MileageRefused,
    mileage_approval_ask,
    mileage_approval_record,
    mileage_hold_record,
    mileage_release,
)
from portal.accounts.models import Member
from portal.accounts.services import NotEnoughPoints, store_points_change
from portal.catalog.models import Product

from . import cash_receipts, gateway, money
from .amounts import PricedLine, build_amounts, goods_of
from .gateway_interface import PORTONE_NAME
from .models import Order, OrderLine, OrderStatus, Payment, PaymentMethod
from .rules import (
    CASH_RECEIPT_KINDS,
    CASH_RECEIPT_NONE,
    cash_receipt_identifier,
    cash_receipt_method,
    guest_password_error,
    shipping_fee,
)
from .services import TransitionNotAllowed, lock_for_sweep, order_set_status, save_with_number

MAX_QUANTITY = 99


def shop_account_holder() -> str:
    """The name a TEST 가상계좌 is held in: the shop's 상호 (설정 › 사업자 정보), else the site's name."""
    details = MerchantDetails.of_default_site()
    if details is not None and details.company_name:
        return details.company_name
    site = Site.objects.filter(is_default_site=True).only("site_name").first()
    return (site.site_name if site is not None else "") or "쇼핑몰"


def shop_deposit_account() -> str:
    """The account buyers transfer to for 무통장입금, kept with the business details (설정 › 사업자 정보); "" while
    none is set."""
    details = MerchantDetails.of_default_site()
    return details.deposit_account if details is not None else ""


class CheckoutError(Exception):
    """A buyer's mistake: the message (translated, Korean by default) is shown next to the form; nothing was changed."""

    def __init__(self, message: str, field: str | None = None, *, spent_choice: bool = False,
                 placed: "Order | None" = None):
        super().__init__(message)
        self.message, self.field = message, field
        # The order the same choice or the same payment window placed already (a double 결제하기, a second tab of
        # the same browser): the page shows that order rather than asking the buyer to pay again.
        self.placed = placed
        # This attempt consumed the buyer's mileage choice (its approval was refused, or aborted after a declined
        # card): the order form must drop it. A choice spent by ANOTHER request is not ours to touch.
        self.spent_choice = spent_choice


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def excluded(self) -> bool:
        return hasattr(self.product, "mileage_exclusion")

    @property
    def total_won(self) -> int:
        return self.product.price_won * self.quantity


@dataclass(frozen=True)
class Quote:
    lines: list[CartLine]
    goods_won: int
    excluded_goods_won: int
    shipping_won: int
    store_points_won: int
    max_use_won: int
    mileage_use_won: int = 0
    discount_won: int = 0
    earn_base_won: int = 0
    expected_earn_won: int = 0
    rate_x10: int = 0
    earn_choice: str = "both"  # E9: naver | store | both
    store_points_earn_won: int = 0  # the shop's 적립금 this order earns at 구매확정
    notes: list[str] = field(default_factory=list)

    @property
    def payable_won(self) -> int:
        return self.goods_won - self.discount_won - self.store_points_won + self.shipping_won - self.mileage_use_won


def parse_quantity(raw) -> int:
    try:
        quantity = wire.parse_int(raw, min_value=-(10**6), max_value=10**6, max_length=7)
    except wire.NotANumber as exc:
        if exc.kind != "range":
            raise CheckoutError(_("수량은 숫자로 입력해 주세요."), "quantity") from None
        quantity = 0  # a number far out of range: said as the range below
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise CheckoutError(_("수량은 1개에서 %(max)s개까지 주문할 수 있습니다.") % {"max": MAX_QUANTITY}, "quantity")
    return quantity


def cart_lines(cart: dict[str, int]) -> list[CartLine]:
    products = Product.objects.filter(code__in=cart.keys(), is_displayed=True).select_related(
        "category", "mileage_exclusion")
    by_code = {p.code: p for p in products}
    return [CartLine(by_code[code], qty) for code, qty in cart.items() if code in by_code]


def quote(lines: list[CartLine], *, member: Member | None = None, store_points_won: int = 0,
          mileage_use_won: int = 0, rate_x10: int = 0, earn_choice: str = NAVER) -> Quote:
    """Price a cart; U2 offer, U4 order of deduction and E1 earn base from the merchant's settings."""
    if not lines:
        raise CheckoutError(_("장바구니가 비어 있습니다."))
    settings = MileageSettings.load()
    cart_goods = goods_of(PricedLine(line.product.price_won, line.quantity, line.excluded) for line in lines)
    goods, excluded = cart_goods
    shipping = shipping_fee(goods)
    if store_points_won < 0:
        raise CheckoutError(_("적립금은 0원 이상이어야 합니다."), "store_points")
    if store_points_won and member is None:
        raise CheckoutError(_("적립금은 회원만 사용할 수 있습니다."), "store_points")
    if member is not None and store_points_won > member.store_points_won:
        raise CheckoutError(_("사용 가능한 적립금은 %(points)s원입니다.") % {"points": f"{member.store_points_won:,}"},
                            "store_points")
    before = goods + shipping
    if settings.store_points_first:
        points = min(store_points_won, before)
        max_use = max_use_amount(before - points, excluded)
    else:
        max_use = max_use_amount(before, excluded)
        points = min(store_points_won, max(0, before - mileage_use_won))
    if store_points_won > points:
        raise CheckoutError(_("적립금은 결제금액까지만 사용할 수 있습니다 (최대 %(points)s원).") % {"points": f"{points:,}"},
                            "store_points")
    amounts = build_amounts(cart_goods, store_points_won=points, shipping_won=shipping, mileage_use_won=mileage_use_won)
    base = earn_base(amounts, settings.earn_base_rule)
    plan = earn_plan(buyer_chooses=settings.buyer_chooses_earn, chosen=earn_choice, is_member=member is not None,
                     base_won=base, store_rate_x10=settings.store_points_rate_x10)
    return Quote(lines=lines, goods_won=goods, excluded_goods_won=excluded, shipping_won=shipping,
                 store_points_won=points, max_use_won=max_use, mileage_use_won=mileage_use_won,
                 earn_base_won=plan.naver_base_won, expected_earn_won=earn_amount(plan.naver_base_won, rate_x10),
                 rate_x10=rate_x10, earn_choice=plan.choice, store_points_earn_won=plan.store_points_won)


@dataclass(frozen=True)
class Buyer:
    orderer_name: str
    orderer_phone: str
    orderer_email: str
    recipient_name: str
    recipient_phone: str
    zipcode: str
    address: str
    address_detail: str
    shipping_message: str
    depositor_name: str
    payment_method: str
    card_number: str = ""
    payment_id: str = ""  # a real PG's payment window (PortOne): the payment the buyer authenticated, its token
    payment_token: str = ""
    guest_password: str = ""
    earn_choice: str = NAVER  # E9, when the shop lets the buyer choose
    cash_receipt_kind: str = ""  # 현금영수증 for a cash-like method: none | personal | corporate
    cash_receipt_identifier: str = ""  # its 휴대폰번호 or 사업자번호 as typed
    submission_key: str = ""  # the order form's key for its cart: one order per cart, whatever the presses and tabs


def verified_choice(choice: dict | None, *, max_use_won: int) -> wire.DoneResult | None:
    """Verify the stored popup result again (signature, amounts) against the current offer."""
    if not choice:
        return None
    try:
        return get_client().verify_done(choice["params"], max_use_won=max_use_won)
    except (ProviderError, KeyError) as exc:
        message = getattr(exc, "message", _("네이버 마일리지 정보가 올바르지 않습니다."))
        raise CheckoutError(_("%(reason)s 적립/사용 버튼을 다시 눌러 주세요.") % {"reason": message}, "mileage") from exc


def _priced_with_choice(lines: list[CartLine], member: Member | None, store_points_won: int, choice: dict | None,
                        earn_choice: str) -> tuple[Quote, wire.DoneResult | None]:
    """The order's amounts with the buyer's mileage choice verified again (what the order and the PG's window take)."""
    priced = quote(lines, member=member, store_points_won=store_points_won, earn_choice=earn_choice)
    done = verified_choice(choice, max_use_won=priced.max_use_won)
    if done is not None and done.mileage_use_won and priced.max_use_won == 0:
        raise CheckoutError(_("상품권/금은 네이버 마일리지로 결제할 수 없습니다."), "mileage")
    if done is not None:
        priced = quote(lines, member=member, store_points_won=store_points_won,
                       mileage_use_won=done.mileage_use_won, rate_x10=done.base_rate_x10 + done.add_rate_x10,
                       earn_choice=earn_choice)
    return priced, done


# The methods a PG's payment window takes (PortOne's payMethod); 무통장입금 waits for the deposit instead. A 가상계좌
# is issued in the window and then waits for its deposit too.
WINDOW_PAY_METHODS = {PaymentMethod.CARD: "CARD", PaymentMethod.REALTIME_TRANSFER: "TRANSFER",
                      PaymentMethod.PHONE: "MOBILE", PaymentMethod.VIRTUAL_ACCOUNT: "VIRTUAL_ACCOUNT"}
# the methods paid by a deposit into an account, after the order is placed (E8's deadline)
DEPOSIT_METHODS = (PaymentMethod.BANK_TRANSFER, PaymentMethod.VIRTUAL_ACCOUNT)


def payment_window_used(payment_method: str) -> bool:
    """Whether the buyer pays `payment_method` in the PG's window (PortOne) rather than on the TEST gateway."""
    return payment_method in WINDOW_PAY_METHODS and gateway.get_gateway().opens_window


@dataclass(frozen=True)
class PaymentWindow:
    """What the order form hands PortOne's browser SDK (`PortOne.requestPayment`)."""

    payment_id: str
    amount_won: int
    order_name: str
    pay_method: str
    due_at: datetime | None = None  # 가상계좌: the deposit deadline the window asks the PG for (E8)


def nothing_to_pay(*, lines: list[CartLine], member: Member | None, store_points_won: int, choice: dict | None,
                   earn_choice: str = NAVER) -> bool:
    """Whether the mileage and the 적립금 cover the whole order (the choice verified again): no PG window opens, and
    the order is placed as on the TEST gateway — the mileage approved first, then 결제완료 with nothing charged."""
    priced, _done = _priced_with_choice(lines, member, store_points_won, choice, earn_choice)
    return priced.payable_won == 0


def payment_window_open(*, lines: list[CartLine], member: Member | None, store_points_won: int, choice: dict | None,
                        payment_method: str, earn_choice: str = NAVER) -> PaymentWindow | None:
    """Before the window opens: the order priced on the server (the mileage choice verified again), a new payment
    id, and its exact payable amount pre-registered at the PG, so that the window refuses any other amount. Nothing
    is recorded here; a window the buyer abandons lapses at the PG, uncharged. None when there is nothing to pay
    (the form is posted without a window)."""
    if payment_method not in WINDOW_PAY_METHODS:
        raise CheckoutError(_("결제수단을 선택해 주세요."), "payment_method")
    priced, _done = _priced_with_choice(lines, member, store_points_won, choice, earn_choice)
    if priced.payable_won <= 0:
        return None
    payment_id = f"pay-{secrets.token_hex(12)}"
    try:
        gateway.get_gateway().prepare(payment_id=payment_id, amount_won=priced.payable_won)
    except gateway.GatewayUnavailable:
        raise CheckoutError(_("결제대행사가 응답하지 않습니다. 잠시 후 다시 결제해 주세요.")) from None
    first = lines[0].product.name
    name = first if len(lines) == 1 else _("%(first)s 외 %(count)s건") % {"first": first, "count": len(lines) - 1}
    due_at = unpaid_deadline(timezone.now()) if payment_method == PaymentMethod.VIRTUAL_ACCOUNT else None
    return PaymentWindow(payment_id, priced.payable_won, name[:60], WINDOW_PAY_METHODS[payment_method], due_at)


def window_id_taken(payment_id: str) -> bool:
    return Payment.objects.filter(gateway=PORTONE_NAME, gateway_tid=payment_id).exists()


def order_of_window(payment_id: str):
    """The orders a PortOne window's payment belongs to (one at most: the payment id is unique)."""
    return Order.objects.filter(payments__gateway=PORTONE_NAME, payments__gateway_tid=payment_id)


def _the_same_order(placed: Order | None, lines: list[CartLine], priced: Quote) -> Order | None:
    """`placed` when it is the order this attempt would have placed (the same lines and amount: a double 결제하기,
    not a new cart paying with a spent choice)."""
    if placed is None or placed.payable_won != priced.payable_won:
        return None
    ordered = sorted((line.product_code, line.quantity) for line in placed.lines.all())
    return placed if ordered == sorted((line.product.code, line.quantity) for line in lines) else None


def _already_used(req_tx_id: str, lines: list[CartLine], priced: Quote) -> CheckoutError:
    return CheckoutError(_("이미 주문에 사용된 적립/사용 정보입니다. 적립/사용 버튼을 다시 눌러 주세요."), "mileage",
                         placed=_the_same_order(Order.objects.filter(mileage__req_tx_id=req_tx_id).first(), lines,
                                                priced))


def order_place(*, lines: list[CartLine], buyer: Buyer, member: Member | None, store_points_won: int,
                choice: dict | None, inflow_token: str = "", now: datetime | None = None) -> Order:
    """Place an order: reserve, then approve, then charge (docs/adr/0005-authorisation-before-capture.md).

    The order is recorded as 주문처리중 with the buyer's held mileage choice; the provider's approval is asked for
    synchronously; only an approved order keeps its mileage line, recorded in the same transaction that marks it
    paid after the card charge (or 입금전 for a bank transfer). A refused or unanswered approval leaves the order
    unplaced (결제실패, nothing charged, store points back, the reqTxId aborted through the outbox) and raises
    CheckoutError for the buyer. Wrong input raises CheckoutError with nothing changed."""
    now = now or timezone.now()
    if member is None:
        error = guest_password_error(buyer.guest_password)
        if error:
            raise CheckoutError(error, "guest_password")
    if buyer.payment_method not in PaymentMethod.values:
        raise CheckoutError(_("결제수단을 선택해 주세요."), "payment_method")
    receipt_asked = _cash_receipt_asked(buyer)
    priced, done = _priced_with_choice(lines, member, store_points_won, choice, buyer.earn_choice)
    # nothing to pay (the mileage and 적립금 cover it all): whatever method was chosen, no deposit is awaited and no
    # PG is asked — the order is paid once the mileage is approved
    awaits_deposit = buyer.payment_method in DEPOSIT_METHODS and priced.payable_won > 0
    virtual_account = awaits_deposit and buyer.payment_method == PaymentMethod.VIRTUAL_ACCOUNT
    deposit_account = shop_deposit_account() if awaits_deposit and not virtual_account else ""
    if awaits_deposit and not virtual_account and not deposit_account:
        raise CheckoutError(_("무통장입금 계좌가 아직 준비되지 않았습니다. 다른 결제수단을 선택해 주세요."), "payment_method")
    card_like = not awaits_deposit
    try:
        order, order_lines, mileage = _record(lines, buyer, member, priced, done, inflow_token, now,
                                              card_like or virtual_account, deposit_account, receipt_asked,
                                              awaits_deposit=awaits_deposit)
    except IntegrityError:
        if done is not None and req_tx_id_taken(done.req_tx_id):
            # the choice belongs to another order already (another tab, or a race): refused, not placed
            raise _already_used(done.req_tx_id, lines, priced) from None
        first = Order.objects.filter(submission_key=buyer.submission_key).first() if buyer.submission_key else None
        if first is not None:
            # the same form posted twice (a double click, or pressed again while the first was placing): one order
            if first.status in (OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED):  # nothing was taken by it
                raise CheckoutError(_("이 주문서의 결제는 이루어지지 않았습니다. 결제된 금액은 없습니다. 다시 결제해 주세요."),
                                    placed=first) from None
            raise CheckoutError(_("이 주문서로 이미 주문하셨습니다. 주문조회에서 주문을 확인해 주세요."),
                                placed=_the_same_order(first, lines, priced)) from None
        if buyer.payment_id and window_id_taken(buyer.payment_id):
            # the same window's payment posted twice (a double submit): the first places the order, once
            raise CheckoutError(_("이 결제로 이미 주문하셨습니다. 주문조회에서 주문을 확인해 주세요."), placed=_the_same_order(
                order_of_window(buyer.payment_id).first(), lines, priced)) from None
        raise
    approval = None
    if mileage is not None:
        try:
            approval = mileage_approval_ask(order=order, mileage=mileage, lines=order_lines)
        except MileageRefused as exc:
            _not_placed(order, note=f"네이버 마일리지 승인거절 [{exc.code}]")
            raise CheckoutError(_("네이버 마일리지 사용이 승인되지 않아 주문하지 못했습니다: %(reason)s "
                                  "결제된 금액은 없습니다. 적립/사용 버튼을 다시 누르거나 마일리지 없이 결제해 주세요.")
                                % {"reason": exc.message}, "mileage", spent_choice=True) from exc
    if card_like:
        _charge(order, buyer, approval)
        if receipt_asked is not None:  # the transfer is captured: the receipt is asked for, the order stands
            cash_receipts.issue_requested(order.payments.all()[0])
    elif virtual_account:
        _issue_virtual_account(order, buyer, approval)
    elif approval is not None:
        with _with_approval(approval):
            order_set_status(order=order, to_status=OrderStatus.AWAITING_DEPOSIT, note="네이버 마일리지 승인",
                             from_status=order.status)
    return order


def _cash_receipt_asked(buyer: Buyer) -> tuple[str, str] | None:
    """The 현금영수증 the buyer asked for, (kind, identifier digits), or None (none asked, or a method that takes
    none); a wrong 휴대폰번호 or 사업자번호 raises CheckoutError on its field, nothing placed."""
    if not cash_receipt_method(buyer.payment_method):
        return None
    kind = buyer.cash_receipt_kind or CASH_RECEIPT_NONE
    digits, error = cash_receipt_identifier(kind, buyer.cash_receipt_identifier)
    if error:
        raise CheckoutError(error, "cash_receipt_identifier" if kind in CASH_RECEIPT_KINDS else "cash_receipt_kind")
    return (kind, digits) if kind != CASH_RECEIPT_NONE else None


@contextmanager
def _with_approval(approval: Approval | None):
    """One transaction for the order's next state and, when there is one, the mileage approval's record (which the
    order then carries, for the pages and the e-mail that follow the placement)."""
    with transaction.atomic():
        if approval is not None:
            approval.order.mileage = mileage_approval_record(approval)
        yield


def _record(lines: list[CartLine], buyer: Buyer, member: Member | None, priced: Quote, done: wire.DoneResult | None,
            inflow_token: str, now: datetime, through_gateway: bool, deposit_account: str = "",
            receipt_asked: tuple[str, str] | None = None, *, awaits_deposit: bool = False
            ) -> tuple[Order, list[OrderLine], MileageTransaction | None]:
    """The order, its lines, the store points taken and the held mileage choice, in one transaction. The order
    carries its lines and its payment as written (not read again to charge it, nor for the e-mail).
    `through_gateway`: the gateway is asked next (a charge, a 가상계좌 to issue), so the order waits 주문처리중;
    `awaits_deposit`: paid by a deposit into an account later, before E8's deadline."""
    # read before the transaction: the rate comes from the provider when its cache is cold, never under a lock
    rules = asdict(disclosure_rules())
    with transaction.atomic():
        order = Order(
            member=member,
            status=OrderStatus.PLACING if through_gateway or done is not None else OrderStatus.AWAITING_DEPOSIT,
            payment_method=buyer.payment_method,
            orderer_name=buyer.orderer_name, orderer_phone=buyer.orderer_phone, orderer_email=buyer.orderer_email,
            recipient_name=buyer.recipient_name, recipient_phone=buyer.recipient_phone, zipcode=buyer.zipcode,
            address=buyer.address, address_detail=buyer.address_detail, shipping_message=buyer.shipping_message,
            depositor_name=buyer.depositor_name or buyer.orderer_name, goods_won=priced.goods_won,
            excluded_goods_won=priced.excluded_goods_won, shipping_won=priced.shipping_won,
            store_points_won=priced.store_points_won, mileage_use_won=priced.mileage_use_won,
            payable_won=priced.payable_won, placed_at=now, earn_choice=priced.earn_choice,
            store_points_earn_won=priced.store_points_earn_won,
            deposit_deadline=unpaid_deadline(now) if awaits_deposit else None,
            disclosure_revision_id=getattr(live_disclosure(), "live_revision_id", None), uses_mileage=done is not None,
            disclosure_rules=rules, submission_key=buyer.submission_key)
        if member is None:
            order.set_guest_password(buyer.guest_password)
        save_with_number(order, now)
        order_lines = OrderLine.objects.bulk_create([
            OrderLine(order=order, product=line.product, product_code=line.product.code,
                      product_name=line.product.name, category_path=line.product.category.path,
                      unit_price_won=line.product.price_won, quantity=line.quantity, line_total_won=line.total_won,
                      is_excluded=line.excluded) for line in lines])
        if priced.store_points_won:
            try:
                store_points_change(member=member, delta_won=-priced.store_points_won, reason="주문 사용",
                                    idempotency_key=f"{order.number}:use", order=order)
            except NotEnoughPoints as exc:
                raise CheckoutError(str(exc), "store_points") from exc
        payment = money.payment_open(order=order, method=buyer.payment_method, amount_won=priced.payable_won,
                                     bank_account=deposit_account, window_id=buyer.payment_id)
        if receipt_asked is not None:
            cash_receipts.request(payment=payment, kind=receipt_asked[0], identifier=receipt_asked[1])
        mileage = mileage_hold_record(order=order, done=done, inflow_token=inflow_token) if done is not None else None
    _carry(order, "lines", order_lines)
    _carry(order, "payments", [payment])
    return order, order_lines, mileage


def _carry(order: Order, related: str, rows: list) -> None:
    """`order.<related>.all()` answers with the rows just written, as a prefetch would."""
    carried = getattr(order, related).all()
    carried._result_cache, carried._prefetch_done = list(rows), True
    order._prefetched_objects_cache = {**getattr(order, "_prefetched_objects_cache", {}),
                                       Order._meta.get_field(related).cache_name: carried}


def _not_placed(order: Order, *, note: str) -> None:
    """The order will not be paid: 결제실패, the payment failed, the store points back (the caller released the
    mileage)."""
    with transaction.atomic():
        money.payment_failed(order=order, note=note)
        order_set_status(order=order, to_status=OrderStatus.PAYMENT_FAILED, note=note)
        if order.store_points_won and order.member_id:
            store_points_change(member=order.member, delta_won=order.store_points_won, reason="결제실패 환원",
                                idempotency_key=f"{order.number}:use:reverse", order=order)


def _charge(order: Order, buyer: Buyer, approval: Approval | None) -> None:
    """Capture: charge (confirm) the payment on the gateway (outside any transaction), then record the payment, the
    order's 결제완료 and the mileage approval in one transaction; a decline undoes the approval."""
    if buyer.payment_method in DEPOSIT_METHODS:  # 0원 by 무통장입금 or 가상계좌: no deposit to wait for, no PG
        result = gateway.GatewayResult(True, "", "결제할 금액 없음")
    else:
        result = gateway.get_gateway().charge(method=buyer.payment_method, amount_won=order.payable_won,
                                              card_number=buyer.card_number, payment_id=buyer.payment_id,
                                              payment_token=buyer.payment_token)
    if not result.approved:
        with _with_approval(approval):
            _not_placed(order, note=result.message)
            if approval is not None:
                mileage_release(order=order)
        raise CheckoutError(_("%(reason)s 주문번호 %(number)s") % {"reason": result.message, "number": order.number},
                            "card_number",
                            spent_choice=approval is not None)
    with _with_approval(approval):
        # the payment as _record wrote it, carried by the order (read, locked, only when it is not)
        payment = order.payments.all()[0] if "payments" in getattr(order, "_prefetched_objects_cache", {}) else None
        charged = money.payment_charged(order=order, tid=result.tid, note=result.message, payment=payment,
                                        with_the_move=True)
        order_set_status(order=order, to_status=OrderStatus.PAID, note=result.message, from_status=order.status,
                         also=money.charged_with_the_move(charged))


def _issue_virtual_account(order: Order, buyer: Buyer, approval: Approval | None) -> None:
    """가상계좌: after the mileage approval, the gateway issues the account (with PortOne, the one the buyer had
    issued in the window, read back); the order is then 입금전 with the account on its payment and the PG's deadline,
    the approval recorded with it, exactly as 무통장입금 (its `stated` goes at 입금확인). A refusal undoes the
    approval; nothing was paid."""
    try:
        account = gateway.get_gateway().issue_virtual_account(
            payment_id=buyer.payment_id or order.number, amount_won=order.payable_won, due_at=order.deposit_deadline,
            holder=shop_account_holder())
    except gateway.GatewayUnavailable:
        account = gateway.VirtualAccount(False, "", _("결제대행사가 응답하지 않습니다. 잠시 후 다시 결제해 주세요."))
    if not account.approved:
        with _with_approval(approval):
            _not_placed(order, note=account.message)
            if approval is not None:
                mileage_release(order=order)
        raise CheckoutError(_("%(reason)s 주문번호 %(number)s") % {"reason": account.message, "number": order.number},
                            "payment_method", spent_choice=approval is not None)
    with _with_approval(approval):
        money.payment_virtual_account_issued(order=order, account=account)
        if account.due_at is not None and account.due_at != order.deposit_deadline:
            order.deposit_deadline = account.due_at  # the PG's deadline (never later than E8's)
            order.save(update_fields=["deposit_deadline"])
        order_set_status(order=order, to_status=OrderStatus.AWAITING_DEPOSIT, note=account.message,
                         from_status=order.status)
    order._prefetched_objects_cache.pop(Order._meta.get_field("payments").cache_name, None)  # read with the account


STUCK_AFTER = timedelta(minutes=15)


def orders_abandon_stuck(*, now: datetime | None = None) -> int:
    """Orders left 주문처리중 by a process that died between recording and charging are not placed: 결제실패, store
    points back, and the mileage approval (or hold) aborted at the provider. The scheduler runs this.

    A PortOne order (its window's payment id kept on the payment) is swept after PAYMENT_WINDOW_ABANDON_MINUTES:
    its payment is read back at PortOne first, under the order's row lock (one node asks), and given back whole
    there when it was confirmed but never recorded (docs/adr/0017); a PortOne that does not answer leaves the order
    to the next run."""
    now = now or timezone.now()
    window_cutoff = now - timedelta(minutes=settings.PAYMENT_WINDOW_ABANDON_MINUTES)
    stuck = Order.objects.filter(status=OrderStatus.PLACING).filter(
        Q(placed_at__lte=now - STUCK_AFTER) | Q(placed_at__lte=window_cutoff, payments__gateway=PORTONE_NAME))
    count = 0
    for order in stuck.distinct().order_by("pk"):
        with transaction.atomic():
            # an order another node holds is left to it; one that finished meanwhile is skipped
            locked = lock_for_sweep(order, OrderStatus.PLACING)
            if locked is None:
                continue
            window_id = (Payment.objects.filter(order=locked, gateway=PORTONE_NAME).exclude(gateway_tid="")
                         .values_list("gateway_tid", flat=True).first())
            note = "주문처리 중단"
            if window_id:
                try:
                    refunded = gateway.get_gateway(PORTONE_NAME).release(payment_id=window_id)
                except gateway.GatewayUnavailable:
                    continue  # whether it was paid is unknown: the next run asks again
                note = "결제창 미완료 — 결제대행사 결제 전체취소" if refunded else "결제창 미완료"
            try:
                _not_placed(locked, note=note)
            except TransitionNotAllowed:
                continue
        if order_has_mileage(locked):
            mileage_release(order=locked)
        count += 1
    return count

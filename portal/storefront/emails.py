"""The order e-mail: the same statement as the pages, with the Naver Mileage used and the expected earn (M2), in the
buyer's language, sent as the order form's request ends (core.mail): a mail server that is down never turns a
placed order into an error page."""

from django.template.loader import render_to_string
from django.utils.translation import gettext

from core.mail import send_quietly
from mileage.selectors import mileage_for_order


def send_order_email(order) -> None:
    if not order.orderer_email:
        return
    mileage = carried_mileage(order)
    body = render_to_string("storefront/email/order.txt", {"order": order, "mileage": mileage,
                                                           "lines": order.lines.all()})
    subject = gettext("[마일리지 샵] 주문번호 %(number)s 주문이 접수되었습니다") % {"number": order.number}
    send_quietly(subject, body, [order.orderer_email], what=f"the order e-mail of {order.number}")


def carried_mileage(order):
    """The mileage transaction the placement left on the order (no read), else the order's own, read."""
    try:
        cached = type(order).mileage.related.is_cached(order)
    except AttributeError:
        cached = False
    return order.mileage if cached else mileage_for_order(order)

"""The one view that serves an order's PDF receipt, parameterised by its audience: the shop mounts it for buyers
(the member who owns the order, or the guest who looked it up in this browser), the console for operators. The
audience says whether a login and a permission are needed and which orders the person may see; everyone else gets
the login page, 403 or 404 (also for an order never placed, which has no receipt), and the PDF comes from the private cache (`render.receipt_pdf`)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from portal.accesslog.models import AccessAction
from portal.accesslog.services import access_record
from portal.orders.models import Order

from .render import receipt_pdf


@dataclass(frozen=True)
class Audience:
    """Who may see receipts through one mounting of ReceiptView."""

    name: str
    find_order: Callable[[HttpRequest, str], Order]  # the order this person may see, else raises Http404
    login_required: bool = False
    permission: str | None = None  # a Django permission the person must hold
    refused: str = ""  # the 403 message for a logged-in person without the permission
    logged: bool = False  # each receipt served is an access-log record (staff audiences)


class ReceiptView(View):
    audience: Audience | None = None  # given by as_view(audience=...)
    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest, number: str) -> HttpResponse:
        audience = self.audience
        if audience.login_required and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if audience.permission and not request.user.has_perm(audience.permission):
            raise PermissionDenied(audience.refused)
        order = audience.find_order(request, number)
        if not order.has_receipt:  # never placed: a PDF would be a receipt for money nobody paid
            return render(request, "receipts/none.html", {"order": order}, status=404)
        response = HttpResponse(receipt_pdf(order), content_type="application/pdf")
        if audience.logged:
            access_record(action=AccessAction.RECEIPT, request=request, targets=[order.number])
        response["Content-Disposition"] = f'inline; filename="receipt-{order.number}.pdf"'
        return response

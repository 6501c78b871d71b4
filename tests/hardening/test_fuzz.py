"""Finding 2, as a property: no form or query parameter of any screen answers 5xx or changes the database, whatever
string it gets (Unicode digits, huge or negative numbers, control characters with NUL, very long strings, SQL and
HTML metacharacters), as any role (anonymous, buyer, operator, editor).

Each parameter is sent alone, so a form never has everything it needs: a bad value must be refused with a
message, never taken. Every (screen, parameter) pair of a role gets a fixed set of nasty values, then Hypothesis
explores further. Provider calls go to a closed port (and do not wait between retries).
"""

import hashlib
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mileage.models import MileageEvent, MileageSettings, MileageTransaction, OutboxMessage
from portal.aftersales.models import Exchange, Refund, ReturnRequest
from portal.catalog.models import Category, Product
from portal.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange, Payment, PaymentMethod
from tests.factories import ProductFactory, order_for
from tests.sandbox_process import free_port
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db

# --- what is sent --------------------------------------------------------------------------------------------------

NASTY = ["²", "١٢٣", "9" * 5000, "--1", "1" * 25, "a\x00b", "\x01\x7f\u202e", "' OR 1=1 --",
         '"><script>alert(1)</script>', "가" * 3000]

BAD = st.one_of(
    st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=30),
    st.integers(min_value=10**13, max_value=10**80).map(str),
    st.integers(min_value=-(10**40), max_value=-1).map(str),
    st.integers(min_value=13, max_value=6000).map(lambda n: "9" * n),
    st.tuples(st.text(max_size=12), st.text(alphabet=st.characters(categories=["Cc"]), min_size=1, max_size=3))
    .map("".join),
    st.integers(min_value=300, max_value=5000).map(lambda n: "가" * n),
    st.tuples(st.sampled_from(["'", '"', ";--", "<", ">", "&", "%", "_", "\\", "{{", "${", "/*", "<svg/onload=1>"]),
              st.text(max_size=20)).map(lambda t: t[0] + t[1]),
)

# --- where it goes --------------------------------------------------------------------------------------------------

ORDER_FORM = ["orderer_name", "orderer_phone", "orderer_email", "same_as_orderer", "recipient_name",
              "recipient_phone", "zipcode", "address", "address_detail", "shipping_message", "payment_method",
              "depositor_name", "card_number", "store_points", "guest_password", "privacy_agreed"]
REFUND_FORM = ["cash_won", "store_points_won", "mileage_won", "shipping_deduction_won", "method", "bank",
               "account_no", "holder"]
ORDER_FILTERS = ["period", "placed_from", "placed_to", "status", "payment_method", "orderer_name", "depositor_name",
                 "recipient_name", "number", "phone", "member", "product", "per_page", "page", "sort", "export"]
REFUND_FILTERS = ["status", "item", "period", "created_from", "created_to", "orderer", "order", "holder", "page",
                  "sort"]
DONE = ["resultCode", "reqTxId", "baseAccumRate", "addAccumRate", "mileageUseAmount", "cashUseAmount",
        "totalUseAmount", "balanceAmount", "sig"]


def shop_targets(world) -> list[tuple[str, str, str]]:
    """(method, url, parameter) of every buyer-facing screen."""
    own = world["own_order"]
    targets = [("GET", "/shop/", p) for p in ("page",)]
    targets += [("GET", "/shop/c/cat-1/", "page"), ("GET", "/shop/p/1/", "x"), ("GET", "/", "page"),
                ("GET", "/earn-base/", "x")]
    targets += [("POST", "/shop/cart/add/", p) for p in ("code", "quantity", "buy_now")]
    targets += [("POST", "/shop/cart/add/?code=1", "quantity")]
    targets += [("POST", "/shop/cart/", p) for p in ("code", "quantity", "remove")]
    targets += [("GET", "/shop/order/", "x")] + [("POST", "/shop/order/", p) for p in ORDER_FORM]
    targets += [("POST", "/shop/guest/", p) for p in ("number", "password")]
    targets += [("GET", "/shop/mypage/", "x"), ("GET", f"/shop/orders/{own}/", "x"),
                ("GET", f"/shop/orders/{own}/receipt.pdf", "x")]
    targets += [("GET", "/mileage/popup/open/", "x")] + [("GET", "/mileage/popup/done/", p) for p in DONE]
    targets += [("POST", "/accounts/login/", p) for p in ("username", "password", "next")]
    targets += [("POST", "/accounts/password/reset/", "email")]
    return targets


def console_targets(world) -> list[tuple[str, str, str]]:
    paid, delivered, waiting = world["paid"], world["delivered"], world["waiting"]
    line = world["delivered_line"]
    targets = [("GET", "/console/", p) for p in ORDER_FILTERS]
    targets += [("GET", f"/console/orders/{paid}/", "x"), ("GET", f"/console/orders/{waiting}/cancel/", "x")]
    targets += [("POST", f"/console/orders/{paid}/action/ship/", p) for p in ("carrier", "invoice_no")]
    targets += [("POST", f"/console/orders/{paid}/action/{a}/", "x") for a in ("nope",)]
    targets += [("POST", f"/console/orders/{paid}/cancel/", p) for p in REFUND_FORM]
    targets += [("POST", f"/console/orders/{delivered}/return/", p)
                for p in [*REFUND_FORM, "reason", f"qty_{line}", "qty_abc"]]
    targets += [("GET", f"/console/orders/{delivered}/exchange/", p)
                for p in (f"qty_{line}", "new_1", "new_\u00b2", "mileage_returned_won", "q")]
    targets += [("POST", f"/console/orders/{delivered}/exchange/?action=complete", p)
                for p in (f"qty_{line}", "new_1", "mileage_returned_won", "action")]
    targets += [("GET", "/console/refunds/", p) for p in REFUND_FILTERS]
    targets += [("POST", "/console/refunds/", "selection")]
    targets += [("POST", "/console/orders/bulk/", p) for p in ("selection", "action", "query")]
    targets += [("POST", "/console/invoices/", "file"), ("POST", "/console/invoices/template.xlsx", "selection")]
    targets += [("GET", "/console/outbox/", p) for p in ("status", "kind", "page")]
    targets += [("POST", "/console/outbox/", "message")]
    targets += [("POST", "/console/mileage/settings/", p)
                for p in ("api_id", "hash_key", "action", "include_shipping")]
    targets += [("GET", "/console/mileage/exclusions/", p)
                for p in ("category", "name", "display", "excluded", "per_page", "page")]
    targets += [("POST", "/console/mileage/exclusions/", p) for p in ("selection", "reason", "action")]
    targets += [("GET", "/console/mileage/settlement/", p) for p in ("month", "export")]
    targets += [("GET", "/console/receipts.zip", p) for p in ("status", "placed_from")]
    return targets


def cms_targets(world) -> list[tuple[str, str, str]]:
    return [("GET", "/cms/", "x"), ("GET", "/cms/pages/", "ordering"), ("GET", "/cms/pages/search/", "q"),
            ("GET", f"/cms/pages/{world['home']}/", "ordering"), ("GET", f"/cms/pages/{world['home']}/", "p"),
            ("POST", "/cms/login/", "username"), ("POST", "/cms/login/", "password")]


# --- the database must not change -----------------------------------------------------------------------------------

def fingerprint() -> str:
    rows = [
        list(Order.objects.order_by("pk").values_list("pk", "status", "payable_won", "mileage_use_won",
                                                      "orderer_name")),
        list(OrderLine.objects.order_by("pk").values_list("pk", "quantity", "returned_quantity")),
        list(Product.objects.order_by("pk").values_list("pk", "is_displayed", "price_won")),
        list(MileageSettings.objects.values_list("api_id", "hash_key", "service_enabled", "include_shipping")),
        *[model.objects.count() for model in (OrderStatusChange, Payment, Refund, ReturnRequest, Exchange,
                                              Category, MileageTransaction, MileageEvent, OutboxMessage, User)],
    ]
    from wagtail.models import Page, Revision

    from mileage.models import ExclusionChange

    rows += [ExclusionChange.objects.count(), Page.objects.count(), Revision.objects.count()]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


# --- the world -----------------------------------------------------------------------------------------------------

@pytest.fixture
def world(settings):
    settings.MILEAGE_API_BASE = settings.MILEAGE_SERVICE_BASE = f"http://127.0.0.1:{free_port()}"
    cache.clear()
    load_demo()
    MileageSettings.objects.filter(pk=1).update(service_enabled=False)
    product = ProductFactory(code="FZ1", price_won=5_000)
    waiting = order_for([(product, 1)])
    paid = order_for([(product, 1)], method=PaymentMethod.CARD)
    delivered = order_for([(product, 2)], method=PaymentMethod.CARD)
    own = order_for([(product, 1)], member=User.objects.get(username="hong").member)
    Order.objects.filter(pk=paid.pk).update(status=OrderStatus.PAID)
    Order.objects.filter(pk=delivered.pk).update(status=OrderStatus.DELIVERED)
    from wagtail.models import Page

    with mock.patch("mileage.provider.client.time.sleep"):
        yield {"waiting": waiting.number, "paid": paid.number, "delivered": delivered.number,
               "own_order": own.number, "delivered_line": delivered.lines.get().pk,
               "home": Page.objects.get(depth=2).pk}


def client_for(role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(User.objects.get(username={"buyer": "hong", "operator": "operator",
                                                      "editor": "editor"}[role]))
    client.post("/shop/cart/add/", {"code": "1", "quantity": "1"})  # so that the order form is reachable
    return client


def send(client: Client, target: tuple[str, str, str], value: str):
    method, url, name = target
    if method == "GET":
        return client.get(url, {name: value})
    return client.post(url, {name: value})


ROLES = {
    "anonymous": lambda w: shop_targets(w) + console_targets(w)[:6] + cms_targets(w),
    "buyer": lambda w: shop_targets(w) + console_targets(w)[:6] + cms_targets(w)[:3],
    "operator": lambda w: console_targets(w) + shop_targets(w)[:8],
    "editor": lambda w: cms_targets(w) + console_targets(w)[:4] + shop_targets(w)[:4],
}


@pytest.mark.parametrize("role", list(ROLES))
def test_no_parameter_gets_a_5xx_or_changes_the_database(world, role):
    client = client_for(role)
    targets = ROLES[role](world)
    before = fingerprint()

    def check(target, value):
        response = send(client, target, value)
        assert response.status_code < 500, (role, target, value[:80], response.status_code)
        assert fingerprint() == before, (role, target, value[:80])

    # every parameter of every screen of the role, with each nasty value
    for target in targets:
        for value in NASTY:
            check(target, value)

    # then Hypothesis looks further
    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(target=st.sampled_from(targets), value=BAD)
    def explore(target, value):
        check(target, value)

    explore()

import itertools
import uuid

from mileage import wire
from mileage.provider import MileageClient, PaymentRequest

_orders = itertools.count(1)


def client_for(sandbox, merchant, **options) -> MileageClient:
    api_id, hash_key = merchant
    defaults = {"connect_timeout": 2.0, "read_timeout": 5.0}
    return MileageClient(api_base=sandbox.base_url, service_base=sandbox.base_url, api_id=api_id,
                         hash_key=hash_key, **{**defaults, **options})


def order_no() -> str:
    return f"T{uuid.uuid4().hex[:8]}-{next(_orders):05d}"


def sample_items(*prices: int) -> list[wire.WireItem]:
    return [wire.WireItem(str(i + 1), f"샘플상품 {i + 1}", p, 1, p, "대분류 1") for i, p in enumerate(prices)]


def payment(done: wire.DoneResult, *, order: str, order_amount: int, amount: int, confirmed: bool,
            items=None) -> PaymentRequest:
    return PaymentRequest(order_no=order, product_name="샘플상품 1", qty=1, order_amount_won=order_amount,
                          amount_won=amount, mileage_use_won=done.mileage_use_won, is_member=True,
                          is_confirmed=confirmed, items=items or sample_items(order_amount), req_tx_id=done.req_tx_id)


def popup_choice(sandbox, client, buyer: str, use: int, max_use: int, done_url="http://127.0.0.1:8000/done",
                 ncisy: str = "") -> wire.DoneResult:
    url = client.popup_url(done_url=done_url, max_use_won=max_use, ncisy=ncisy)
    params = sandbox.choose_in_popup(url, buyer, use)
    return client.verify_done(params, max_use_won=max_use)


def approved(sandbox, client, buyer, *, price=5_000, use=500, confirmed=False):
    """The manual's order: sample product 1 at `price`, `use` mileage, earn base price − use."""
    done = popup_choice(sandbox, client, buyer, use, price)
    order = order_no()
    result = client.approve(payment(done, order=order, order_amount=price, amount=price - use, confirmed=confirmed),
                            idempotency_key=f"{order}:approve")
    return done, order, result

"""The one builder of idempotency keys for every provider and gateway call (and the ledgers' rows): the entity, its
business identity, the action and what makes this action unique — an order number, a refund number, the id of the
state change that caused the call — never a count or a timestamp, so that asking again is asking the same thing."""


def action_key(*parts: str) -> str:
    """`order-no:action[:…]`, e.g. action_key("20261204-0000001", "abort") or
    action_key("refund", "C20261204-0000003", "payout"). Parts are joined by ':' and may not be empty."""
    texts = [str(part) for part in parts]
    if len(texts) < 2:
        raise ValueError(f"an idempotency key needs an identity and an action: {parts!r}")
    if any(not text for text in texts):
        raise ValueError(f"an idempotency key has no empty part: {parts!r}")
    return ":".join(texts)

"""Popup holds the buyer no longer uses (docs/protocol.md §1 Hold: only an abort or the hold's expiry releases
one), given back at the provider by a task worker, so that no buyer's page waits on the provider for it. A hold an
order took meanwhile is left alone; one the provider cannot release now expires by itself."""

import logging

from django_tasks import task

from core.idempotency import action_key
from mileage.provider import ProviderError, extensions, get_client
from mileage.selectors import req_tx_id_taken

log = logging.getLogger(__name__)


@task()
def release_popup_hold(req_tx_id: str, opened_for: str = "") -> str:
    """Abort a popup's reqTxId that no order took (read when the task runs, not when it was asked for).
    `opened_for`: a result the provider could not confirm as the session's when it came back — released only once
    the provider's status call says it is held for that very doneUrl (never another buyer's hold)."""
    if req_tx_id_taken(req_tx_id):
        return "taken"
    client = get_client()
    if opened_for:
        try:
            answer = extensions.status_of(client, req_tx_id) if extensions.uses(extensions.STATUS) else None
        except ProviderError as exc:
            return f"not confirmed [{exc.code}]"
        if answer is None or answer.req_tx_state != "HELD" or str(answer.raw.get("doneUrl", "")) != opened_for:
            return "not confirmed"
    try:
        client.abort(req_tx_id, idempotency_key=action_key("popup-release", req_tx_id))
    except ProviderError as exc:  # unknown there, ended already, or no answer now: the hold expires by itself
        return f"not released [{exc.code}]"
    return "released"


def popup_hold_release(req_tx_id: str, *, opened_for: str = "") -> None:
    """Ask a worker to give the hold of `req_tx_id` back (`opened_for`: see release_popup_hold)."""
    try:
        release_popup_hold.enqueue(req_tx_id, opened_for)
    except Exception:  # the hold expires by itself
        log.exception("could not ask for the release of popup hold %s", req_tx_id)

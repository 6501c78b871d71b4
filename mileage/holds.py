"""Popup holds the buyer no longer uses (docs/protocol.md §1 Hold: only an abort or the hold's expiry releases
one), given back at the provider by a task worker, so that no buyer's page waits on the provider for it. A hold an
order took meanwhile is left alone; one the provider cannot release now expires by itself."""

import logging

from django_tasks import task

from core.idempotency import action_key
from mileage.provider import ProviderError, get_client
from mileage.selectors import req_tx_id_taken

log = logging.getLogger(__name__)


@task()
def release_popup_hold(req_tx_id: str) -> str:
    """Abort a popup's reqTxId that no order took (read when the task runs, not when it was asked for)."""
    if req_tx_id_taken(req_tx_id):
        return "taken"
    try:
        get_client().abort(req_tx_id, idempotency_key=action_key("popup-release", req_tx_id))
    except ProviderError as exc:  # unknown there, ended already, or no answer now: the hold expires by itself
        return f"not released [{exc.code}]"
    return "released"


def popup_hold_release(req_tx_id: str) -> None:
    """Ask a worker to give the hold of `req_tx_id` back."""
    try:
        release_popup_hold.enqueue(req_tx_id)
    except Exception:  # the hold expires by itself
        log.exception("could not ask for the release of popup hold %s", req_tx_id)

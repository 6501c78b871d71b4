"""Popup holds the buyer no longer uses (docs/protocol.md §1 Hold: only an abort or the hold's expiry releases
one), given back at the provider by a task worker, so that no buyer's page waits on the provider for it. A hold an
order took meanwhile is left alone; one the provider cannot release now expires by itself."""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from core.idempotency import action_key
from mileage.provider import ProviderError, ProviderUnavailable, extensions, get_client
from mileage.selectors import req_tx_id_taken

log = logging.getLogger(__name__)


# a result the provider could not confirm is asked about again this often, about as long as its hold lasts (30 min)
CONFIRM_RETRY = timedelta(minutes=2)
CONFIRM_ATTEMPTS = 15


@task()
def release_popup_hold(req_tx_id: str, opened_for: str = "", attempt: int = 1) -> str:
    """Abort a popup's reqTxId that no order took (read when the task runs, not when it was asked for).
    `opened_for`: a result the provider could not confirm as the session's when it came back — released only once
    the provider's status call says it is held for that very doneUrl (never another buyer's hold); asked again later
    while the provider cannot answer."""
    if req_tx_id_taken(req_tx_id):
        return "taken"
    client = get_client()
    if opened_for:
        try:
            answer = extensions.status_of(client, req_tx_id) if extensions.uses(extensions.STATUS) else None
        except ProviderUnavailable:
            return _ask_again(req_tx_id, opened_for, attempt)
        except ProviderError as exc:
            return f"not confirmed [{exc.code}]"
        if answer is None:  # the status call not in use now (found absent, or the provider unreachable a moment ago)
            return _ask_again(req_tx_id, opened_for, attempt)
        if answer.req_tx_state != "HELD" or str(answer.raw.get("doneUrl", "")) != opened_for:
            return "not confirmed"
    try:
        client.abort(req_tx_id, idempotency_key=action_key("popup-release", req_tx_id))
    except ProviderError as exc:  # unknown there, ended already, or no answer now: the hold expires by itself
        return f"not released [{exc.code}]"
    return "released"


def _ask_again(req_tx_id: str, opened_for: str, attempt: int) -> str:
    if attempt >= CONFIRM_ATTEMPTS:
        return "not confirmed (the hold expires by itself)"
    try:
        release_popup_hold.using(run_after=timezone.now() + CONFIRM_RETRY).enqueue(req_tx_id, opened_for, attempt + 1)
    except Exception:  # a backend that cannot defer (the tests' immediate one): the hold expires by itself
        log.warning("popup hold %s: could not ask the provider again later", req_tx_id)
        return "not confirmed"
    return "asked again later"


def popup_hold_release(req_tx_id: str, *, opened_for: str = "") -> None:
    """Ask a worker to give the hold of `req_tx_id` back (`opened_for`: see release_popup_hold)."""
    try:
        release_popup_hold.enqueue(req_tx_id, opened_for)
    except Exception:  # the hold expires by itself
        log.exception("could not ask for the release of popup hold %s", req_tx_id)

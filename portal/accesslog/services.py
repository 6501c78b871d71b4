"""The one writer of the access log and its verification (docs/adr/0016)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from portal.accounts.throttle import client_address

from .models import GENESIS, AccessAction, AccessRecord, ChainHead


def access_record(*, action: str, request: HttpRequest | None = None, by=None, targets: Iterable = (),
                  count: int | None = None, reason: str = "", address: str = "") -> AccessRecord:
    """Appends one record at the head of the chain. The head row is moved first (an UPDATE), which serialises the
    writers: PostgreSQL's row lock, SQLite's write lock. The record commits with the caller's transaction."""
    if action not in AccessAction.values:
        raise ValueError(f"unknown access-log action {action!r}")
    user = by if by is not None else getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    targets = [str(target) for target in targets]
    with transaction.atomic():
        if not ChainHead.objects.filter(pk=1).update(seq=F("seq") + 1):
            ChainHead.objects.get_or_create(pk=1)
            ChainHead.objects.filter(pk=1).update(seq=F("seq") + 1)
        head = ChainHead.objects.select_for_update().get(pk=1)
        record = AccessRecord(
            seq=head.seq, at=timezone.now(), actor=user, actor_name=user.get_username() if user else "",
            address=address or (client_address(request) if request is not None else ""), action=action,
            targets=targets, count=len(targets) if count is None else count, reason=reason.strip()[:200],
            prev_hash=head.last_hash)
        record.hash = record.compute_hash()
        record.save()
        ChainHead.objects.filter(pk=1).update(last_hash=record.hash)
    return record


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_id: int | None = None  # the first record whose hash or link does not hold
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def access_log_verify() -> ChainReport:
    """Walks the chain from its oldest record: each one's hash over its content, and its link to the one before.
    The oldest record may link to a pruned one (a checkpoint holds that hash); every later one must link to its
    predecessor, and the head row must name the last record."""
    previous_hash: str | None = None
    previous_seq: int | None = None
    checked = 0
    for record in AccessRecord.objects.order_by("seq").iterator(chunk_size=2000):
        if previous_hash is None:
            if record.seq == 1 and record.prev_hash != GENESIS:
                return ChainReport(checked, record.id, "the first record does not start the chain")
            if record.seq != 1 and record.action != AccessAction.CHECKPOINT:
                return ChainReport(checked, record.id, "the oldest record is neither the first nor a checkpoint")
        elif record.prev_hash != previous_hash or record.seq != previous_seq + 1:
            return ChainReport(checked, record.id, "does not link to the record before it")
        if record.compute_hash() != record.hash:
            return ChainReport(checked, record.id, "its content does not match its hash")
        previous_hash, previous_seq = record.hash, record.seq
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and previous_hash is not None and head.last_hash != previous_hash:
        last = AccessRecord.objects.order_by("-seq").first()
        return ChainReport(checked, last.id if last else None, "the newest records were removed")
    return ChainReport(checked)

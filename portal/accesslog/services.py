"""The one writer of the access log and its verification (docs/adr/0016)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Max
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

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


# The reasons the portal writes itself, kept in the source language (the record is part of a hash chain and reads
# the same whoever wrote it) and translated when shown (`shown`); an operator's own reason is kept as typed.
REASON_SETTINGS = gettext_noop("노출설정 및 셋팅")
REASON_BUSINESS_DETAILS = gettext_noop("사업자 정보")
REASON_EXCLUSION_SET = gettext_noop("예외상품설정")
REASON_EXCLUSION_UNSET = gettext_noop("예외상품설정 해제")


def changed_fields(before: models.Model, after: models.Model, *, skip: Iterable[str] = ()) -> list[str]:
    """The names of the editable fields whose value differs between two copies of a row, as the screen labels them
    (in the source language: see REASON_SETTINGS), never their values."""
    skipped = set(skip)
    with translation.override(settings.LANGUAGE_CODE):
        return [str(field.verbose_name) for field in after._meta.concrete_fields
                if field.editable and not field.primary_key and field.name not in skipped
                and field.value_from_object(before) != field.value_from_object(after)]


def field_label(model: type[models.Model], name: str) -> str:
    """One field's label as changed_fields writes it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(model._meta.get_field(name).verbose_name)


def shown(text: str) -> str:
    """A reason or a target as the reader's language shows it: the portal's own words translated, anything else
    (an operator's reason, an order number) as written."""
    return gettext(text) if text else text


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
            if record.seq != 1 and record.action != AccessAction.CHECKPOINT and not _pruned_before(record):
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


def _checkpoint_targets(seq: int, last_hash: str) -> list[str]:
    return [f"seq:{seq}", f"hash:{last_hash}"]


def _pruned_before(record: AccessRecord) -> bool:
    """Whether a checkpoint in the chain says the records up to just before `record` were pruned, the last of them
    with the hash `record` links to (the checkpoint is itself checked as part of the chain)."""
    wanted = _checkpoint_targets(record.seq - 1, record.prev_hash)
    return any(checkpoint.targets[:2] == wanted for checkpoint in AccessRecord.objects.filter(
        action=AccessAction.CHECKPOINT, targets__icontains=f'"{wanted[0]}"'))


@dataclass(frozen=True)
class PruneReport:
    pruned: int
    checkpoint: AccessRecord | None = None


def access_log_prune(*, now: datetime | None = None, days: int | None = None) -> PruneReport:
    """Deletes the records older than the retention period (ACCESS_LOG_RETENTION_DAYS), the oldest first and always
    a run of whole sequence numbers, behind one 보존기간 경과 삭제 record appended at the head: it names the last
    pruned record's number and hash, so the oldest record kept still verifies (`access_log_verify`). The checkpoint
    and the delete commit together, under the chain head's lock (concurrent writers wait)."""
    days = settings.ACCESS_LOG_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        # the chain head's lock first (PostgreSQL; SQLite has one writer): writers and another pruning wait, and
        # what is past the period is read only once nobody else can prune it
        list(ChainHead.objects.select_for_update().filter(pk=1).values_list("pk", flat=True))
        last = AccessRecord.objects.filter(at__lt=cutoff).aggregate(last=Max("seq"))["last"]
        if last is None:
            return PruneReport(0)
        last_hash = AccessRecord.objects.get(seq=last).hash
        doomed = AccessRecord.objects.filter(seq__lte=last)
        pruned = doomed.count()
        checkpoint = access_record(action=AccessAction.CHECKPOINT, targets=_checkpoint_targets(last, last_hash),
                                   count=pruned, reason=f"보존기간 {days}일 경과")
        # the one sanctioned delete of this append-only table: past its retention, behind the checkpoint
        models.QuerySet.delete(doomed)
    return PruneReport(pruned, checkpoint)

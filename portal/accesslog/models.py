"""접속기록: the staff's access to buyers' personal data, append-only and hash-chained (docs/adr/0016).

Each record holds the SHA-256 of the previous record's hash and its own content, so an edited, removed or inserted
row breaks the chain at the next record (`manage.py verify_access_log`). The chain's head is one row (`ChainHead`):
a writer moves it first, which takes its row lock (PostgreSQL) or the database's write lock (SQLite), so concurrent
writers queue and the chain never forks.
"""

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.append_only import AppendOnlyModel

GENESIS = "0" * 64


class AccessAction(models.TextChoices):
    ORDER_VIEW = "order_view", _("주문상세정보 조회")
    RECEIPT = "receipt", _("영수증 조회")
    EXPORT = "export", _("다운로드")
    REVEAL = "reveal", _("개인정보 보기")
    SEARCH = "search", _("개인정보 검색")
    SETTINGS = "settings", _("설정 변경")
    CHECKPOINT = "checkpoint", _("보존기간 경과 삭제")


class ChainHead(models.Model):
    """The one row every writer moves first: the last record's position and hash."""

    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = _("접속기록 체인")
        verbose_name_plural = _("접속기록 체인")


class AccessRecord(AppendOnlyModel):
    seq = models.PositiveBigIntegerField(_("순번"), unique=True)
    at = models.DateTimeField(_("일시"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              db_constraint=False, related_name="+", verbose_name=_("처리자"))
    actor_name = models.CharField(_("처리자"), max_length=150, blank=True)
    address = models.CharField(_("접속지 주소"), max_length=45, blank=True)
    action = models.CharField(_("수행업무"), max_length=20, choices=AccessAction.choices, db_index=True)
    targets = models.JSONField(_("대상"), default=list, blank=True)
    count = models.PositiveIntegerField(_("건수"), default=0)
    reason = models.CharField(_("사유"), max_length=200, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("접속기록")
        verbose_name_plural = _("접속기록")
        ordering = ["-seq"]
        permissions = [
            ("view_personal_data", _("주문의 개인정보 전체 보기")),
            ("oversee_access_log", _("개인정보 보호책임자의 접속기록 열람")),
        ]

    def __str__(self) -> str:
        return f"{self.seq} {self.action}"

    def content(self) -> str:
        """What the hash covers, canonical: every field but the hashes' own columns and the id."""
        return json.dumps({
            "seq": self.seq, "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor_name, "address": self.address, "action": self.action,
            "targets": list(self.targets), "count": self.count, "reason": self.reason,
        }, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.content()).encode()).hexdigest()


class PruneRun(models.Model):
    """A month's pruning of the log past ACCESS_LOG_RETENTION_DAYS: the row is the claim (a unique month, so exactly
    one node's insert succeeds), then the outcome."""

    month = models.CharField(max_length=7, unique=True)  # YYYY-MM, Asia/Seoul
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    pruned = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("접속기록 정리")
        verbose_name_plural = _("접속기록 정리")

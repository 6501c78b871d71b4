"""The provider's books: merchants, buyers, popup sessions, transactions, the settlement ledger and the
stored answers of idempotent calls. Balances are derived from the transactions at the sandbox clock."""

from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Clock(models.Model):
    """A settable clock (test control): the sandbox's now() is the real time plus this offset."""

    offset_seconds = models.BigIntegerField(default=0)

    @classmethod
    def now(cls):
        row = cls.objects.filter(pk=1).values_list("offset_seconds", flat=True).first()
        return timezone.now() + timedelta(seconds=row or 0)


class Fault(models.TextChoices):
    NONE = "", "none"
    TIMEOUT = "timeout", "answer late (client times out)"
    HTTP500 = "http500", "HTTP 500 without applying"
    DROP = "drop", "apply, then drop the answer (HTTP 503)"


class Profile(models.TextChoices):
    """Which provider the sandbox plays for a merchant (docs/adr/0011-provider-profiles.md)."""

    EXTENDED = "extended", "extended"  # the public protocol and the extensions, advertised in getAccumRate
    STANDARD = "standard", "standard"  # the public protocol alone (docs/protocol.md §1–2), as the real one


# what the extended profile advertises in getAccumRate's `extensions` field (docs/protocol.md §6)
EXTENSIONS = ("hold", "status", "serviceStatus", "settlement", "rateCalendar", "join", "idempotency")


class Merchant(models.Model):
    api_id = models.CharField(max_length=6, unique=True)
    hash_key = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    initial_rate_x10 = models.PositiveIntegerField(default=10)
    ad_extra_rate_x10 = models.PositiveIntegerField(default=50)
    require_signed_requests = models.BooleanField(default=False)
    # Extension (docs/protocol.md §1): the popup's OK holds the chosen use for this merchant's reqTxId. Off
    # plays a provider that ignores the extension, where only the approval's balance check stands between two
    # orders.
    holds_popup_use = models.BooleanField(default=True)
    # getAccumRate's serviceStatus (docs/protocol.md §2): ACTIVE, SUSPENDED, or REVIEW while it is reviewed.
    service_status = models.CharField(max_length=10, default="ACTIVE")
    # Extended: the extensions above; standard: none of them (no hold, the extension routes answer 404 like a web
    # server without them, getAccumRate carries the rates alone, Idempotency-Key and signature headers ignored).
    profile = models.CharField(max_length=10, choices=Profile.choices, default=Profile.EXTENDED)
    fault = models.CharField(max_length=10, choices=Fault.choices, blank=True, default="")
    fault_remaining = models.PositiveIntegerField(default=0)
    fault_delay_seconds = models.FloatField(default=6.0)

    def __str__(self) -> str:
        return f"{self.name} ({self.api_id})"

    @property
    def extended(self) -> bool:
        return self.profile == Profile.EXTENDED

    @property
    def holds(self) -> bool:
        """Whether the popup's OK holds the chosen use (the hold extension, unless switched off for a test)."""
        return self.extended and self.holds_popup_use


class RateRequest(models.Model):
    """R1: a base-rate change asked in the partner center; R2 decides from which month it applies."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="rate_requests")
    rate_x10 = models.PositiveIntegerField()
    requested_at = models.DateTimeField()
    effective_from = models.DateField()

    class Meta:
        ordering = ["requested_at", "id"]


class Buyer(models.Model):
    login_id = models.CharField(max_length=40, unique=True)
    password = models.CharField(max_length=128)
    name = models.CharField(max_length=50)
    opening_balance_won = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(opening_balance_won__gte=0), name="buyer_opening_ok")]

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)


class PopupState(models.TextChoices):
    OPEN = "open"  # the buyer has the popup open; nothing held
    OK = "ok"  # the buyer confirmed: the use is held until hold_expires_at (when the merchant holds)
    CANCELLED = "cancel"  # the buyer pressed 취소
    ABORTED = "aborted"  # the shop aborted the reqTxId: the hold is released
    USED = "used"  # an approval consumed the choice


class PopupSession(models.Model):
    req_tx_id = models.CharField(max_length=40, unique=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE)
    buyer = models.ForeignKey(Buyer, null=True, on_delete=models.PROTECT)
    done_url = models.TextField()
    max_use_won = models.BigIntegerField(default=0)
    ncisy = models.TextField(blank=True)
    state = models.CharField(max_length=8, choices=PopupState.choices, default=PopupState.OPEN)
    base_rate_x10 = models.PositiveIntegerField(default=0)
    add_rate_x10 = models.PositiveIntegerField(default=0)
    use_won = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True)
    hold_expires_at = models.DateTimeField(null=True)  # while state is OK and this is in the future, use_won is held

    class Meta:
        indexes = [models.Index(fields=["buyer", "state"], name="popup_buyer_state_idx")]


class TxState(models.TextChoices):
    APPROVED = "APPROVED"
    STATED = "STATED"
    CONFIRMED = "CONFIRMED"
    ABORTED = "ABORTED"
    CANCELLED = "CANCELLED"
    AUTO_CANCELLED = "AUTO_CANCELLED"
    SUPERSEDED = "SUPERSEDED"


ACTIVE_STATES = (TxState.APPROVED, TxState.STATED, TxState.CONFIRMED)


class Transaction(models.Model):
    tx_id = models.CharField(max_length=40, unique=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="transactions")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="transactions")
    popup = models.ForeignKey(PopupSession, on_delete=models.PROTECT, related_name="transactions")
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    superseded_by = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="supersedes")
    order_no = models.CharField(max_length=40)
    state = models.CharField(max_length=16, choices=TxState.choices)
    is_confirmed = models.BooleanField()
    is_member = models.BooleanField(default=True)
    order_amount_won = models.BigIntegerField()
    amount_won = models.BigIntegerField()  # the earn base
    use_won = models.BigIntegerField()
    cash_use_won = models.BigIntegerField(default=0)
    base_rate_x10 = models.PositiveIntegerField()
    add_rate_x10 = models.PositiveIntegerField()
    earn_won = models.BigIntegerField(default=0)
    product_name = models.CharField(max_length=200, blank=True)
    qty = models.PositiveIntegerField(default=1)
    items = models.JSONField(default=list)
    invoice = models.JSONField(default=dict, blank=True)
    approved_at = models.DateTimeField()  # of the original approval (E8 counts from it)
    stated_at = models.DateTimeField(null=True)
    available_at = models.DateTimeField(null=True)  # E7: earn usable from then; null while unpaid
    confirmed_at = models.DateTimeField(null=True)
    ended_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["buyer", "state"]), models.Index(fields=["merchant", "order_no"])]
        constraints = [
            models.CheckConstraint(condition=Q(use_won__gte=0) & Q(amount_won__gte=0) & Q(earn_won__gte=0)
                                   & Q(order_amount_won__gte=0), name="tx_amounts_non_negative"),
            models.CheckConstraint(condition=Q(earn_won__lte=20_000), name="tx_earn_within_order_cap"),
        ]


class EntryKind(models.TextChoices):
    EARN = "EARN"  # mileage granted to the shop's buyer: the shop owes the provider
    USE = "USE"  # mileage spent at the shop: the provider owes the shop


class SettlementEntry(models.Model):
    """Append-only: every change of what was earned or used, signed (a cancellation is negative)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="entries")
    tx = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    order_no = models.CharField(max_length=40)
    kind = models.CharField(max_length=4, choices=EntryKind.choices)
    amount_won = models.BigIntegerField()
    reason = models.CharField(max_length=20)
    occurred_at = models.DateTimeField()
    month = models.CharField(max_length=7)  # YYYY-MM, Asia/Seoul

    class Meta:
        indexes = [models.Index(fields=["merchant", "month"])]


class IdempotencyRecord(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE)
    key = models.CharField(max_length=100)
    request_line = models.CharField(max_length=250, default="")  # "POST /v2/partner/…/payment": a key binds to it
    body_hash = models.CharField(max_length=64)
    result_code = models.CharField(max_length=8)
    status_code = models.PositiveIntegerField()
    content_type = models.CharField(max_length=60)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "key"], name="idem_unique_per_merchant")]


class ApiCall(models.Model):
    """Every server-to-server call, with the time the provider spent on it (the portal's benchmarks read it)."""

    merchant = models.ForeignKey(Merchant, null=True, on_delete=models.SET_NULL)
    path = models.CharField(max_length=200)
    result_code = models.CharField(max_length=8)
    duration_ms = models.FloatField()
    replayed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)


class ApplicationStatus(models.TextChoices):
    REVIEW = "REVIEW", "심사중"  # sent, waiting for the provider's review
    REJECTED = "REJECTED", "반려"  # the reviewer sent it back with a reason; it may be corrected and sent again
    APPROVED = "APPROVED", "승인"  # the keys were issued


class Application(models.Model):
    """A merchant's partner sign-up (docs/protocol.md §3). The API ID is issued at application (extension),
    the hash key on approval, shown once to the applicant and mailed."""

    api_id = models.CharField(max_length=6, unique=True)
    token = models.CharField(max_length=64, unique=True)  # the applicant's private link to the application
    company = models.CharField("상호", max_length=100)
    ceo = models.CharField("대표자", max_length=50)
    business_no = models.CharField("사업자등록번호", max_length=12)
    shop_url = models.URLField("쇼핑몰 URL")
    contact_name = models.CharField("담당자", max_length=50)
    email = models.EmailField("e-mail")
    phone = models.CharField("연락처", max_length=20)
    done_url_host = models.CharField("doneUrl 호스트", max_length=200)
    status = models.CharField(max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.REVIEW)
    reject_reason = models.CharField(max_length=300, blank=True)
    keys_shown = models.BooleanField(default=False)  # the hash key is shown once, then only mailed
    merchant = models.OneToOneField(Merchant, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="application")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]

"""The portal's side of Naver Mileage: settings, exclusions, per-order transactions, the ledger, the outbox."""

from .exclusions import Exclusion, ExclusionChange, ExclusionReason
from .ledger import AppendOnlyError, MileageEvent, MileageEventKind, MileageTransaction, TransactionState
from .notices import OperatorNotice
from .outbox import OutboxMessage, OutboxStatus
from .settings import MileageSettings
from .settlement import SettlementKind, SettlementLine

__all__ = [
    "AppendOnlyError",
    "Exclusion",
    "ExclusionChange",
    "ExclusionReason",
    "MileageEvent",
    "MileageEventKind",
    "MileageSettings",
    "MileageTransaction",
    "OperatorNotice",
    "OutboxMessage",
    "OutboxStatus",
    "SettlementKind",
    "SettlementLine",
    "TransactionState",
]

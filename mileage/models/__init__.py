"""The portal's side of Naver Mileage: settings, exclusions, per-order transactions, the ledger, the outbox."""

from .exclusions import Exclusion, ExclusionChange, ExclusionReason
from .ledger import (
    MILEAGE_TRANSITIONS,
    AppendOnlyError,
    MileageEvent,
    MileageEventKind,
    MileageStateChange,
    MileageTransaction,
    TransactionState,
)
from .notices import OperatorNotice, ProviderExtensionNotice
from .outbox import OutboxMessage, OutboxStatus
from .settings import MileageSettings
from .settlement import SettlementKind, SettlementLine

__all__ = [
    "MILEAGE_TRANSITIONS",
    "AppendOnlyError",
    "Exclusion",
    "ExclusionChange",
    "ExclusionReason",
    "MileageEvent",
    "MileageEventKind",
    "MileageSettings",
    "MileageStateChange",
    "MileageTransaction",
    "OperatorNotice",
    "OutboxMessage",
    "OutboxStatus",
    "ProviderExtensionNotice",
    "SettlementKind",
    "SettlementLine",
    "TransactionState",
]

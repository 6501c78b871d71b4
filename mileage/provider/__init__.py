"""The portal's client of the provider (docs/protocol.md) and the outbox that sends its calls after commit."""

from .client import (
    ApiResult,
    Invoice,
    MileageClient,
    PaymentRequest,
    ProviderError,
    ProviderUnavailable,
    get_client,
)

__all__ = ["ApiResult", "Invoice", "MileageClient", "PaymentRequest", "ProviderError", "ProviderUnavailable",
           "get_client"]

"""What every route of the emulator answers with: PortOne's timestamps and its error bodies."""

from datetime import UTC, datetime


def now() -> str:
    """A timestamp as PortOne writes them (RFC 3339, UTC, `Z`)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def error(status: int, kind: str, message: str) -> tuple[int, dict]:
    """An error answer: the HTTP status and PortOne's `{type, message}` body (the SDK maps `type` to its error)."""
    return status, {"type": kind, "message": message}

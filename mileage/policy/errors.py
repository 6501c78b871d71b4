"""Errors raised by the policy rules: a stable code, a Korean message and its English translation."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyError(Exception):
    code: str
    message_ko: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.message_ko} ({self.message_en})"

"""Errors raised by the policy rules: a stable code and a Korean message (the msgid of the project's catalogue).

The policy stays pure Python, so it cannot call Django's gettext. A person sees ONE language: `message` (and so
`str(exc)`) passes the Korean text, the msgid of the project's catalogue, through a translator that the Django side
installs at start-up (mileage.apps: django.utils.translation.gettext). Without one (plain Python), it is the Korean.
Messages with values keep the Korean template (`%(name)s` placeholders) as their msgid and the values in `params`.
"""

from collections.abc import Callable
from dataclasses import dataclass


def gettext_noop(message: str) -> str:
    """Marks a Korean message for the catalogue (makemessages extracts this name); returns it unchanged."""
    return message


_translate: Callable[[str], str] = gettext_noop


def install_translator(translate: Callable[[str], str]) -> None:
    """Set how `PolicyError.message` looks a Korean msgid up (the Django side passes gettext)."""
    global _translate
    _translate = translate


@dataclass(frozen=True)
class PolicyError(Exception):
    code: str
    message_ko: str
    msgid: str = ""  # the Korean template when the message carries values, else message_ko is the msgid
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def with_values(cls, code: str, template_ko: str, **values) -> "PolicyError":
        """A message with values: the Korean text is formatted now; the Korean template stays the msgid."""
        params = tuple((name, str(value)) for name, value in values.items())
        return cls(code, template_ko % dict(params), template_ko, params)

    @property
    def message(self) -> str:
        """The message in the active language (Korean unless the Django side translates it)."""
        if self.msgid:
            return _translate(self.msgid) % dict(self.params)
        return _translate(self.message_ko)

    def __str__(self) -> str:
        return self.message

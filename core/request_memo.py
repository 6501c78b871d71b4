"""Values read once per request: the first reader in a request reads, the others get what it read.

The memo is opened when a request starts and dropped when it finishes (core/apps.py connects Django's request
signals); outside a request (task workers, the scheduler, management commands) nothing is remembered and every
call reads. A value that changes within the request is put again by whoever changed it."""

from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_memo: ContextVar[dict | None] = ContextVar("request_memo", default=None)


def memo_open(**kwargs) -> None:
    _memo.set({})


def memo_close(**kwargs) -> None:
    _memo.set(None)


def remembered(key: str, read: Callable[[], T]) -> T:
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def remember(key: str, value) -> None:
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


def forget(key: str) -> None:
    memo = _memo.get()
    if memo is not None:
        memo.pop(key, None)

"""Use rules: the popup's maximum (U2) and validation of a chosen amount (U1)."""

from .constants import MIN_USE_WON
from .errors import PolicyError, gettext_noop


def max_use_amount(payable_won: int, excluded_goods_won: int) -> int:
    """U2: mileage never pays for excluded goods. `payable_won` is what the buyer would pay."""
    return max(0, payable_won - excluded_goods_won)


def validate_use(use_won: int, *, balance_won: int, max_use_won: int) -> int:
    """U1: 0 (no use) or at least 500원, at most the balance and at most maxUseAmount. Returns the amount."""
    if not isinstance(use_won, int) or isinstance(use_won, bool):
        raise PolicyError("use_not_integer", gettext_noop("사용금액은 숫자로 입력해 주세요."))
    if use_won < 0:
        raise PolicyError("use_negative", gettext_noop("사용금액은 0원 이상이어야 합니다."))
    if use_won == 0:
        return 0
    if use_won < MIN_USE_WON:
        raise PolicyError.with_values(
            "use_below_minimum",
            gettext_noop("네이버 마일리지는 %(min)s원부터 사용할 수 있습니다."),
            min=f"{MIN_USE_WON:,}",
        )
    if use_won > balance_won:
        raise PolicyError.with_values(
            "use_above_balance",
            gettext_noop("사용금액이 잔액(%(balance)s원)보다 많습니다."),
            balance=f"{balance_won:,}",
        )
    if use_won > max_use_won:
        raise PolicyError.with_values(
            "use_above_max",
            gettext_noop("이 주문에는 최대 %(max)s원까지 사용할 수 있습니다."),
            max=f"{max_use_won:,}",
        )
    return use_won

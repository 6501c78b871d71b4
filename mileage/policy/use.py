"""Use rules: the popup's maximum (U2) and validation of a chosen amount (U1)."""

from .constants import MIN_USE_WON
from .errors import PolicyError


def max_use_amount(payable_won: int, excluded_goods_won: int) -> int:
    """U2: mileage never pays for excluded goods. `payable_won` is what the buyer would pay."""
    return max(0, payable_won - excluded_goods_won)


def validate_use(use_won: int, *, balance_won: int, max_use_won: int) -> int:
    """U1: 0 (no use) or at least 500원, at most the balance and at most maxUseAmount. Returns the amount."""
    if not isinstance(use_won, int) or isinstance(use_won, bool):
        raise PolicyError("use_not_integer", "사용금액은 숫자로 입력해 주세요.", "Enter the amount as a number.")
    if use_won < 0:
        raise PolicyError("use_negative", "사용금액은 0원 이상이어야 합니다.", "The amount cannot be negative.")
    if use_won == 0:
        return 0
    if use_won < MIN_USE_WON:
        raise PolicyError(
            "use_below_minimum",
            f"네이버 마일리지는 {MIN_USE_WON:,}원부터 사용할 수 있습니다.",
            f"Naver Mileage can be used from {MIN_USE_WON:,} won.",
        )
    if use_won > balance_won:
        raise PolicyError(
            "use_above_balance",
            f"사용금액이 잔액({balance_won:,}원)보다 많습니다.",
            f"The amount is above the balance ({balance_won:,} won).",
        )
    if use_won > max_use_won:
        raise PolicyError(
            "use_above_max",
            f"이 주문에는 최대 {max_use_won:,}원까지 사용할 수 있습니다.",
            f"At most {max_use_won:,} won can be used on this order.",
        )
    return use_won

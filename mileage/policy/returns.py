"""Partial returns and refunds (L4): the mileage returned never exceeds what the order used, summed."""

from .errors import PolicyError, gettext_noop


def max_mileage_return(used_won: int, already_returned_won: int) -> int:
    return max(0, used_won - already_returned_won)


def validate_mileage_return(amount_won: int, *, used_won: int, already_returned_won: int) -> int:
    if not isinstance(amount_won, int) or isinstance(amount_won, bool):
        raise PolicyError("return_not_integer", gettext_noop("반환액은 숫자로 입력해 주세요."))
    if amount_won < 0:
        raise PolicyError("return_negative", gettext_noop("반환액은 0원 이상이어야 합니다."))
    limit = max_mileage_return(used_won, already_returned_won)
    if amount_won > limit:
        raise PolicyError.with_values(
            "return_above_used",
            gettext_noop("네이버 마일리지 반환액은 최대 %(limit)s원까지 가능합니다."),
            limit=f"{limit:,}",
        )
    return amount_won

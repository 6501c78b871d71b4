"""Exchanges (L5, §9): the earn basis and the additional payment or refund."""

from dataclasses import dataclass

from .returns import validate_mileage_return


def exchange_earn_basis(original_basis_won: int, new_basis_won: int) -> int:
    """L5: a higher amount keeps the original basis; a lower one becomes the basis."""
    return min(original_basis_won, new_basis_won)


@dataclass(frozen=True)
class ExchangeOutcome:
    additional_payment_won: int  # 추가 결제예정 금액
    refund_won: int  # money owed back to the buyer
    mileage_kept_won: int  # mileage still applied to the order after the exchange


def exchange_outcome(
    *, new_total_won: int, cash_paid_won: int, mileage_used_won: int, mileage_returned_won: int
) -> ExchangeOutcome:
    """The manual's example: 5,000원 paid 4,500 + 500 mileage, exchanged for 30,000원 with the 500 returned:
    30,000 − 4,500 = 25,500원 to pay."""
    validate_mileage_return(mileage_returned_won, used_won=mileage_used_won, already_returned_won=0)
    kept = mileage_used_won - mileage_returned_won
    due = new_total_won - cash_paid_won - kept
    return ExchangeOutcome(additional_payment_won=max(0, due), refund_won=max(0, -due), mileage_kept_won=kept)

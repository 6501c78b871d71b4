"""Retention of buyers' personal data (issue 25, docs/adr/0015-personal-data-retention.md).

전자상거래법 시행령 제6조 obliges the shop to keep each kind of transaction record for a period (contracts and
payments five years, complaints three); past it the personal data in them are destroyed (개인정보 보호법 제21조).
A daily job, safe on every node, replaces the names, phones, addresses, e-mail, delivery memo, guest password, refund
account holders and numbers and buyers' free text of orders past their period by a fixed marker, and keeps what
settlement and accounting need: amounts, numbers, statuses, dates and the mileage and store-point ledgers.
"""

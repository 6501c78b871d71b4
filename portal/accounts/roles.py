"""The roles of the portal's people: operators hold the orders.operate_console permission (the 운영자 group)."""

OPERATOR_PERMISSION = "orders.operate_console"

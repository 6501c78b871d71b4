"""The roles of the portal's people: operators hold the orders.operate_console permission (the 운영자 group),
merchant editors Wagtail's wagtailadmin.access_admin (the 가맹점 편집자 group); superusers and Django-admin staff
(is_staff) are the third. Those three are the staff: a second factor and a short session (portal/accounts/staff.py).
Everyone else who logs in is a buyer (a member)."""

OPERATOR_PERMISSION = "orders.operate_console"
EDITOR_PERMISSION = "wagtailadmin.access_admin"


def is_staff_person(user) -> bool:
    """An operator, an editor, a superuser or a Django-admin user (the permission checks are cached on the user)."""
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser or user.is_staff or user.has_perm(OPERATOR_PERMISSION)
                or user.has_perm(EDITOR_PERMISSION))

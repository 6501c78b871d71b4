"""Only operators reach the console: the orders.operate_console permission (the 운영자 group has it)."""

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy

from portal.accounts.roles import OPERATOR_PERMISSION

__all__ = ["OPERATORS_ONLY", "OPERATOR_PERMISSION", "OperatorRequiredMixin"]

OPERATORS_ONLY = gettext_lazy("운영자만 사용할 수 있습니다.")


class OperatorRequiredMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = OPERATOR_PERMISSION
    raise_exception = False

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            raise PermissionDenied(str(OPERATORS_ONLY))
        return super().handle_no_permission()

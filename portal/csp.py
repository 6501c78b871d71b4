"""The Content-Security-Policy (django-csp): strict for the shop, the console and the popup flow (no inline
script or style: our scripts are static files), relaxed for the Wagtail and Django admins, whose own templates
use inline scripts and styles. Policies are in settings: CONTENT_SECURITY_POLICY and CONTENT_SECURITY_POLICY_ADMIN.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

ADMIN_PREFIXES = ("/cms/", "/django-admin/")


class PortalCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.config is None and request.path_info.startswith(ADMIN_PREFIXES):
            parts.config = settings.CONTENT_SECURITY_POLICY_ADMIN["DIRECTIVES"]
        return parts

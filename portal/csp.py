"""The Content-Security-Policy (django-csp): strict for the shop, the console and the popup flow (no inline
script or style: our scripts are static files), relaxed for the Wagtail and Django admins, whose own templates
use inline scripts and styles. With the PortOne gateway, the shop's pages also allow the origin of PortOne's browser
script (PORTONE_BROWSER_SDK_URL: PortOne's CDN, or the emulator in development), nothing else. Policies are in settings: CONTENT_SECURITY_POLICY and CONTENT_SECURITY_POLICY_ADMIN.
"""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

ADMIN_PREFIXES = ("/cms/", "/django-admin/")


def portone_origin() -> str:
    """The origin of the script @portone/browser-sdk loads (PORTONE_BROWSER_SDK_URL), while PortOne is the gateway;
    "" otherwise. The shop's pages allow that one origin for the script, the window it frames and its calls."""
    if getattr(settings, "PAYMENT_GATEWAY", "test") != "portone":
        return ""
    url = urlsplit(settings.PORTONE_BROWSER_SDK_URL)
    return f"{url.scheme}://{url.netloc}" if url.scheme in ("https", "http") and url.netloc else ""


class PortalCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.config is None and request.path_info.startswith(ADMIN_PREFIXES):
            parts.config = settings.CONTENT_SECURITY_POLICY_ADMIN["DIRECTIVES"]
        elif not report_only and parts.config is None and (origin := portone_origin()):
            parts.update = {**(parts.update or {}), "script-src": [origin], "frame-src": [origin],
                            "connect-src": [origin]}
        if not report_only and getattr(request, "is_preview", False):
            # a page rendered for the CMS's preview panel (Wagtail runs it through the middleware as a request for
            # the page's own path): the shop's policy, but the editor's screen on this origin may frame it
            parts.replace = {**(parts.replace or {}), "frame-ancestors": ["'self'"]}
        return parts

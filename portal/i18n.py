"""Language choice for the shop and the console.

Wagtail's pages live under i18n_patterns (`/en/…`), where the URL decides. The shop, the console and the accounts
pages have no language prefix; Django's LocaleMiddleware would force LANGUAGE_CODE on them (prefix_default_language
is False), so here the language switch's cookie (django.views.i18n.set_language) decides instead.

One language per browser: a page link written without a prefix ("/earn-base/", in the shop's footer or in an
editor's rich text) would render Korean and flip the switch back for a buyer who chose English. So links the portal
writes go through `localized_path` (the page in the active language: "/en/earn-base/"), and a browser whose cookie
chose another language than the default, asking for an unprefixed page, is sent to that language's URL; the
switch itself (`set_language`) lands on the page in the language chosen ("/en/help/" → "/help/" for Korean).
"""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.views.i18n import set_language as django_set_language

UNPREFIXED = ("/shop/", "/console/", "/accounts/", "/mileage/")


def cookie_language(request) -> str:
    """The language the switch chose in this browser (its cookie), else the default."""
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def localized_path(url: str, language: str | None = None) -> str:
    """`url` as `language` (the active one by default) serves it: a page under i18n_patterns gets that language's
    prefix ("/earn-base/" → "/en/earn-base/", "/en/help/" → "/help/" in Korean); every other URL (the shop, the
    console, an address that resolves to nothing) comes back unchanged. The query and fragment are kept."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return url
    path = parts.path
    prefixed = translation.get_language_from_path(path)
    if prefixed:  # "/en/help/" is read as the page "/help/" of the default language
        path = path[len(prefixed) + 1:] or "/"
    try:
        with translation.override(settings.LANGUAGE_CODE):
            match = resolve(path)
    except Resolver404:
        return url
    try:
        with translation.override(language):
            localized = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
    except NoReverseMatch:
        return url
    return urlunsplit(("", "", localized, parts.query, parts.fragment))


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_request(self, request):
        if request.path_info.startswith(UNPREFIXED):
            # the cookie only, not Accept-Language: a Korean shop opens in Korean until the buyer switches
            translation.activate(cookie_language(request))
            request.LANGUAGE_CODE = translation.get_language()
            return None
        chosen = cookie_language(request)
        if (request.method in ("GET", "HEAD") and chosen != settings.LANGUAGE_CODE
                and not translation.get_language_from_path(request.path_info)):
            target = localized_path(request.path, chosen)
            if target != request.path:  # an unprefixed page of a browser that chose another language
                query = request.META.get("QUERY_STRING", "")
                response = HttpResponseRedirect(f"{target}?{query}" if query else target)
                patch_vary_headers(response, ("Cookie",))
                return response
        return super().process_request(request)


def set_language(request):
    """Django's language switch, landing on `next` in the chosen language: Django's own translates `next` as read in
    the request's language, which for the switch's URL is the default, so "/en/help/" stayed English."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if response.status_code == 302 and language in dict(settings.LANGUAGES):
        # Django accepted the address as safe (this host): an absolute one (the Referer) keeps its host
        scheme, host, path, query, fragment = urlsplit(response["Location"])
        localized = localized_path(urlunsplit(("", "", path, query, fragment)), language)
        response["Location"] = urlunsplit((scheme, host, "", "", "")) + localized if host else localized
    return response

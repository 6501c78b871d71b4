"""Language choice for the shop and the console.

Wagtail's pages live under i18n_patterns (`/en/…`), where the URL decides. The shop, the console and the accounts
pages have no language prefix; Django's LocaleMiddleware would force LANGUAGE_CODE on them (prefix_default_language
is False), so here the language switch's cookie (django.views.i18n.set_language) decides instead.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation

UNPREFIXED = ("/shop/", "/console/", "/accounts/", "/mileage/")


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_request(self, request):
        if request.path_info.startswith(UNPREFIXED):
            # the cookie only, not Accept-Language: a Korean shop opens in Korean until the buyer switches
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
            if language not in dict(settings.LANGUAGES):
                language = settings.LANGUAGE_CODE
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)

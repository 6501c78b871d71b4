import re

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from portal import i18n
from portal.ops import views as ops
from portal.orders.portone_webhook import portone_webhook_receive

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
    path("payments/webhooks/portone/", portone_webhook_receive, name="portone_webhook"),
    path("django-admin/", admin.site.urls),
    path("cms/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/setlang/", i18n.set_language, name="set_language"),
    path("accounts/", include("portal.accounts.urls")),
    path("mileage/", include("mileage.urls")),
    path("shop/", include("portal.storefront.urls")),
    path("console/", include("portal.console.urls")),
]

if settings.DEBUG or getattr(settings, "SERVE_MEDIA", False):
    # product pictures; in production the web server serves MEDIA_ROOT
    def media(request, path):
        return serve(request, path, document_root=settings.MEDIA_ROOT)  # read per request (tests move it)

    urlpatterns += [re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", media)]

urlpatterns += i18n_patterns(path("", include(wagtail_urls)), prefix_default_language=False)

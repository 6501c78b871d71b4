from django.conf import settings
from django.urls import path

from . import api, joining, partner, popup

P = "v2/partner/<str:api_id>"

urlpatterns = [
    path("", partner.home, name="home"),
    path("fonts/<str:name>", partner.font, name="font"),
    path("service/v2/accumulation/<str:api_id>", popup.entry, name="popup-entry"),
    path("service/v2/popup/<str:req_tx_id>/", popup.popup, name="popup"),
    path(f"{P}/payment", api.payment),
    path(f"{P}/payment/<str:req_tx_id>/abort", api.abort),
    path(f"{P}/payment/<str:req_tx_id>/status", api.status),
    path(f"{P}/payment/<str:tx_id>/stated", api.stated),
    path(f"{P}/payment/<str:tx_id>/cancel/stated", api.cancel_stated),
    path(f"{P}/payment/<str:tx_id>/cancel", api.cancel),
    path(f"{P}/payment/<str:tx_id>/confirmed", api.confirmed),
    path(f"{P}/repayment/<str:tx_id>", api.repayment),
    path(f"{P}/delivery/<str:tx_id>/invoice", api.invoice),
    path(f"{P}/getAccumRate", api.rates),
    path(f"{P}/settlement/<str:month>", api.settlement),
    path("partner/<str:api_id>/", partner.partner, name="partner"),
    path("ad/<str:api_id>/", partner.ad_click, name="ad-click"),
]

if settings.SANDBOX_PROFILE == "extended":  # the partner sign-up is an extension (docs/protocol.md §3 and §6)
    urlpatterns[-2:-2] = [
        path("partner/join/", joining.apply, name="join"),
        path("partner/join/review/", joining.review, name="join-review"),
        path("partner/join/<str:token>/", joining.status, name="join-status"),
    ]

if settings.SANDBOX_TEST_CONTROLS:  # dev and tests only (see settings)
    urlpatterns += [
        path("_control/clock", partner.control_clock),
        path("_control/fault", partner.control_fault),
        path("_control/merchant", partner.control_merchant),
        path("_control/buyer", partner.control_buyer),
        path("_control/popup", partner.control_popup),
        path("_control/buyers/<str:login_id>", partner.control_balance),
    ]

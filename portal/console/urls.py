from django.urls import path

from portal.receipts.views import ReceiptView

from . import access_log_views, bulk_views, dashboard, joining_views, mileage_views, payment_views, views
from . import aftersales_views as after

app_name = "console"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("access-log/", access_log_views.AccessLogView.as_view(), name="access-log"),
    path("orders/", views.OrderListView.as_view(), name="orders"),
    path("orders/bulk/", bulk_views.OrderBulkView.as_view(), name="orders-bulk"),
    path("invoices/", bulk_views.InvoiceUploadView.as_view(), name="invoices"),
    path("invoices/template.xlsx", bulk_views.InvoiceTemplateView.as_view(), name="invoice-template"),
    path("invoices/<uuid:pk>/", bulk_views.InvoiceUploadDetailView.as_view(), name="invoice-upload"),
    path("invoices/<uuid:pk>/apply/", bulk_views.InvoiceUploadApplyView.as_view(), name="invoice-upload-apply"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order"),
    path("orders/<str:number>/receipt.pdf", ReceiptView.as_view(audience=views.OPERATORS), name="receipt"),
    path("disclosure/<int:revision_id>/", views.DisclosureRevisionView.as_view(), name="disclosure"),
    path("receipts/", views.ReceiptBatchView.as_view(), name="receipts"),
    path("receipts/<uuid:pk>/", views.ReceiptBatchDetailView.as_view(), name="receipt-batch"),
    path("receipts/<uuid:pk>/download/", views.ReceiptBatchDownloadView.as_view(), name="receipt-batch-download"),
    path("orders/<str:number>/action/<str:action>/", views.OrderActionView.as_view(), name="order-action"),
    path("orders/<str:number>/cash-receipt/retry/", payment_views.CashReceiptRetryView.as_view(),
         name="cash-receipt-retry"),
    path("orders/<str:number>/cancel/", after.CancelView.as_view(), name="cancel"),
    path("orders/<str:number>/payments/<int:payment_id>/cancel/", payment_views.PaymentCancelView.as_view(),
         name="payment-cancel"),
    path("orders/<str:number>/return/", after.ReturnView.as_view(), name="return"),
    path("requests/<int:pk>/dismiss/", views.BuyerRequestDismissView.as_view(), name="request-dismiss"),
    path("exchanges/<int:pk>/ship/", views.ExchangeShipView.as_view(), name="exchange-ship"),
    path("returns/<int:pk>/<str:step>/", after.ReturnStepView.as_view(), name="return-step"),
    path("orders/<str:number>/exchange/", after.ExchangeView.as_view(), name="exchange"),
    path("refunds/", after.RefundListView.as_view(), name="refunds"),
    path("refunds/<int:pk>/method/", after.RefundMethodView.as_view(), name="refund-method"),
    path("outbox/", after.OutboxListView.as_view(), name="outbox"),
    path("mileage/about/", joining_views.MileageAboutView.as_view(), name="mileage-about"),
    path("mileage/settings/", mileage_views.MileageSettingsView.as_view(), name="mileage-settings"),
    path("mileage/exclusions/", mileage_views.ExclusionListView.as_view(), name="exclusions"),
    path("mileage/rates/", mileage_views.RateCalendarView.as_view(), name="rates"),
    path("mileage/settlement/", mileage_views.SettlementView.as_view(), name="settlement"),
]

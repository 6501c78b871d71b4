from django.urls import path

from . import aftersales_views as after
from . import views

app_name = "console"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="orders"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order"),
    path("orders/<str:number>/action/<str:action>/", views.OrderActionView.as_view(), name="order-action"),
    path("orders/<str:number>/cancel/", after.CancelView.as_view(), name="cancel"),
    path("orders/<str:number>/return/", after.ReturnView.as_view(), name="return"),
    path("returns/<int:pk>/<str:step>/", after.ReturnStepView.as_view(), name="return-step"),
    path("orders/<str:number>/exchange/", after.ExchangeView.as_view(), name="exchange"),
    path("refunds/", after.RefundListView.as_view(), name="refunds"),
    path("outbox/", after.OutboxListView.as_view(), name="outbox"),
]

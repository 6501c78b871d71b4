from django.urls import path

from portal.receipts.views import ReceiptView

from . import self_service, views

app_name = "storefront"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("c/<slug:slug>/", views.catalog, name="category"),
    path("p/<str:code>/", views.product_detail, name="product"),
    path("cart/", views.cart_view, name="cart"),
    path("cart/add/", views.cart_add, name="cart-add"),
    path("order/", views.order_form, name="order"),
    path("order/payment-window/", views.order_payment_window, name="order-payment-window"),
    path("order/quote/", views.order_quote, name="order-quote"),
    path("order/<str:number>/complete/", views.order_complete, name="complete"),
    path("mypage/", views.mypage, name="mypage"),
    path("orders/<str:number>/", self_service.order_detail, name="order-detail"),
    path("orders/<str:number>/cancel/", self_service.order_cancel, name="order-cancel"),
    path("orders/<str:number>/request/", self_service.order_request, name="order-request"),
    path("orders/<str:number>/confirm/", self_service.order_confirm, name="order-confirm"),
    path("orders/<str:number>/receipt.pdf", ReceiptView.as_view(audience=views.BUYERS), name="receipt"),
    path("guest/", views.guest_lookup, name="guest-lookup"),
    path("mileage/", views.mileage_benefits, name="mileage-benefits"),
]

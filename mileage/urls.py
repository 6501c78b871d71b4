from django.urls import path

from . import views

app_name = "mileage"

urlpatterns = [
    path("popup/open/", views.popup_open, name="popup-open"),
    path("popup/done/", views.popup_done, name="popup-done"),
]

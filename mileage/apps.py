from django.apps import AppConfig


class MileageConfig(AppConfig):
    name = "mileage"
    label = "mileage"
    verbose_name = "네이버 마일리지"

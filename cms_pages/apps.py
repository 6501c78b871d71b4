from django.apps import AppConfig


class CmsPagesConfig(AppConfig):
    name = "cms_pages"
    label = "cms_pages"
    verbose_name = "페이지"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from .models import MerchantDetails
        from .selectors import merchant_rows_forget

        post_save.connect(merchant_rows_forget, sender=MerchantDetails, dispatch_uid="merchant-rows-save")
        post_delete.connect(merchant_rows_forget, sender=MerchantDetails, dispatch_uid="merchant-rows-delete")
        from auditlog.registry import auditlog

        auditlog.register(MerchantDetails)  # 변경 이력 of the business details and the 무통장입금 account

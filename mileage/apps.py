from django.apps import AppConfig


class MileageConfig(AppConfig):
    name = "mileage"
    label = "mileage"
    verbose_name = "네이버 마일리지"

    def ready(self):
        from django.db.models.signals import post_init, post_save
        from django.utils.translation import gettext

        from core.log_redaction import register_secret
        from mileage.models import MileageSettings
        from mileage.models.settings import settings_memo_saved
        from mileage.policy.errors import install_translator
        from mileage.provider import outbox
        from mileage.services.transactions import mileage_answer_apply, repayment_tx_id_learn

        def remember_key(sender, instance, **kwargs):
            register_secret(instance.hash_key)

        post_init.connect(remember_key, sender=MileageSettings, weak=False, dispatch_uid="mileage-redact-init")
        post_save.connect(remember_key, sender=MileageSettings, weak=False, dispatch_uid="mileage-redact-save")
        post_save.connect(settings_memo_saved, sender=MileageSettings, dispatch_uid="mileage-settings-memo-saved")
        # The pure-Python policy's messages are Korean msgids: a person sees them in the active language (one only).
        install_translator(gettext)
        outbox.answer_with(mileage_answer_apply)
        outbox.find_tx_id_with(repayment_tx_id_learn)
        # 변경 이력: every change of the settings, who made it and from where; the hash key never in the clear
        from auditlog.registry import auditlog

        auditlog.register(MileageSettings, exclude_fields=["updated_at", "updated_by"], mask_fields=["hash_key"],
                          mask_callable="core.log_redaction.mask_secret")

"""Notices for operators about the mileage service (e.g. the disclosure page was unpublished)."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class OperatorNotice(models.Model):
    message = models.CharField(_("알림"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("운영자 알림")
        verbose_name_plural = _("운영자 알림")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The notice in the active language: a notice's message is its Korean text, a msgid of the catalogue."""
        return gettext(self.message)

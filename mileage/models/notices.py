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


class ProviderExtensionNotice(models.Model):
    """An extension of the protocol that the provider advertised but answered in a way the portal did not expect
    (404, HTML, an unknown result code): the portal works without it for this API ID from then on
    (docs/adr/0011-provider-profiles.md). One row per API ID and extension; the dashboard reads them."""

    api_id = models.CharField(max_length=6)
    extension = models.CharField(max_length=30)
    detail = models.CharField(max_length=200)
    noticed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_id", "extension"], name="extension_notice_once")]
        ordering = ["noticed_at", "id"]

"""The merchant's mileage settings (노출설정 및 셋팅): credentials and the earn-base choices (E1).

A request reads the row once (core.request_memo): `load()` hands out copies of what it read, so a form that
changes the instance it was given changes nothing for the next reader; a save puts the saved row instead. Outside a
request (workers, the scheduler) every `load()` reads the row."""

import copy

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import ChoiceLabels
from core.request_memo import remember, remembered
from mileage.policy import EarnBaseRule

MEMO_KEY = "mileage.settings"

api_id_validator = RegexValidator(
    r"^[A-Za-z0-9]{6}$", _("가맹점 API ID는 영문/숫자 6자입니다.")
)
hash_key_validator = RegexValidator(
    r"^[0-9a-f]{40}$", _("해쉬키는 16진수 40자입니다.")
)


class ProviderProfile(models.TextChoices):
    AUTO = "auto", _("네이버 마일리지가 알려 주는 확장 기능 사용")  # the advertised extensions (none: standard)
    STANDARD = "standard", _("표준 프로토콜만 사용")  # never an extension, whatever the provider advertises


class MileageSettings(ChoiceLabels, models.Model):
    """One row (pk=1). Values here win over the MILEAGE_* environment settings."""

    api_id = models.CharField(_("가맹점 API ID"), max_length=6, blank=True, validators=[api_id_validator])
    hash_key = models.CharField(_("해쉬키(인증키)"), max_length=40, blank=True, validators=[hash_key_validator])
    subtract_discounts = models.BooleanField(_("할인금액을 적립대상금액에서 제외"), default=True)
    subtract_store_points = models.BooleanField(_("사용적립금을 적립대상금액에서 제외"), default=True)
    include_shipping = models.BooleanField(_("배송비를 적립대상금액에 포함"), default=False)
    store_points_first = models.BooleanField(_("적립금을 네이버 마일리지보다 먼저 차감"), default=True)
    service_enabled = models.BooleanField(_("네이버 마일리지 서비스 사용"), default=False)
    # E9: the shop's own 적립금 (granted at 구매확정) and whether the buyer picks which one an order earns.
    store_points_rate_x10 = models.PositiveIntegerField(_("쇼핑몰 적립금 적립률"), default=0)
    buyer_chooses_earn = models.BooleanField(_("구매자가 적립 수단 선택"), default=False)
    # docs/protocol.md §6: the extensions used are those the provider advertises; this only narrows them.
    provider_profile = models.CharField(_("연동 방식"), max_length=10, choices=ProviderProfile.choices,
                                        default=ProviderProfile.AUTO)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("네이버 마일리지 설정")
        verbose_name_plural = _("네이버 마일리지 설정")

    def __str__(self) -> str:
        return f"{self.api_id or '-'} ({self.masked_hash_key})"

    @classmethod
    def load(cls) -> "MileageSettings":
        return copy.copy(remembered(MEMO_KEY, lambda: cls.objects.get_or_create(pk=1)[0]))

    @classmethod
    def locked(cls) -> "MileageSettings":
        """The row read under a lock for the rest of the transaction (a save that must see every earlier one)."""
        cls.objects.get_or_create(pk=1)
        return cls.objects.select_for_update().get(pk=1)

    @property
    def version(self) -> str:
        """Which save of the row this is: a form carries it, and a save made since is not overwritten unseen."""
        return self.updated_at.isoformat() if self.updated_at else ""

    @property
    def masked_hash_key(self) -> str:
        return f"{self.hash_key[:4]}{'*' * 32}{self.hash_key[-4:]}" if self.hash_key else ""

    @property
    def earn_base_rule(self) -> EarnBaseRule:
        return EarnBaseRule(subtract_discounts=self.subtract_discounts,
                            subtract_store_points=self.subtract_store_points,
                            include_shipping=self.include_shipping)

    def effective_credentials(self) -> tuple[str, str]:
        """(api_id, hash_key): the screen's values, else the environment's."""
        if self.api_id and self.hash_key:
            return self.api_id, self.hash_key
        return settings.MILEAGE_API_ID, settings.MILEAGE_HASH_KEY


def settings_memo_saved(sender, instance, **kwargs) -> None:
    remember(MEMO_KEY, copy.copy(instance))

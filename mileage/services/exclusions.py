"""Exclusions (E6): only gift certificates (상품권) and gold (금) may be excluded; each change is logged."""

from django.db import transaction
from django.utils.translation import gettext_noop

from mileage.models import Exclusion, ExclusionChange, ExclusionReason
from mileage.policy import PolicyError


def _lock_products(product_ids: list[int]) -> None:
    """The products' rows locked, in id order: two changes of the same products take turns (an exclusion not made
    yet has no row of its own to lock), and two of overlapping selections never wait on each other in a circle."""
    product = Exclusion._meta.get_field("product").related_model
    list(product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk").values_list("pk", flat=True))


def _user(by):
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def exclusion_set(*, product_ids: list[int], reason: str, by) -> int:
    if reason not in ExclusionReason.values:
        raise PolicyError("exclusion_reason", gettext_noop("예외상품은 상품권 또는 금만 설정할 수 있습니다."))
    product_ids = list(dict.fromkeys(product_ids))  # each product once
    changed = 0
    with transaction.atomic():
        _lock_products(product_ids)
        current = {e.product_id: e for e in Exclusion.objects.select_for_update().filter(product_id__in=product_ids)}
        for product_id in product_ids:
            existing = current.get(product_id)
            if existing is not None and existing.reason == reason:
                continue
            if existing is None:
                Exclusion.objects.create(product_id=product_id, reason=reason, created_by=_user(by))
            else:
                Exclusion.objects.filter(pk=existing.pk).update(reason=reason)
            ExclusionChange.objects.create(product_id=product_id, from_reason=existing.reason if existing else "",
                                           to_reason=reason, changed_by=_user(by))
            changed += 1
    return changed


def exclusion_unset(*, product_ids: list[int], by) -> int:
    with transaction.atomic():
        _lock_products(product_ids)
        existing = list(Exclusion.objects.select_for_update().filter(product_id__in=product_ids))
        ExclusionChange.objects.bulk_create([
            ExclusionChange(product_id=e.product_id, from_reason=e.reason, to_reason="", changed_by=_user(by))
            for e in existing])
        Exclusion.objects.filter(pk__in=[e.pk for e in existing]).delete()
    return len(existing)

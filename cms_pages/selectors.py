"""Reads of the CMS pages that other parts ask for."""

from .models import EarnBaseDisclosurePage


def live_disclosure() -> EarnBaseDisclosurePage | None:
    """The published 적립 기준 안내 (POLICY E1): checkout offers mileage only while it is live."""
    return EarnBaseDisclosurePage.objects.live().public().first()

"""노출설정 및 셋팅 and 예외상품설정 with operators at once: a save never undoes another operator's save unseen, the
service is never left on with keys the provider refuses, and one exclusion set by several at once is set once.
Against the provider sandbox; the races on PostgreSQL."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from mileage.models import Exclusion, ExclusionChange, MileageSettings
from portal.catalog.models import Product
from tests.support.concurrency import at_once

from .test_mileage_screens import _FormFields

pytestmark = pytest.mark.sandbox

URL = "/console/mileage/settings/"
on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="row locks are PostgreSQL's")
REFUSED_KEY = "0123456789abcdef0123456789abcdef01234567"


def _operator() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="operator"))
    return client


def _shown_form(client: Client) -> dict:
    """What the browser would send for the settings form as the page shows it now."""
    parser = _FormFields()
    parser.feed(client.get(URL).content.decode())
    data = {}
    for name, value in parser.fields:
        data.setdefault(name, value)
    return {**data, "action": "save"}


def _at_once(*sends) -> list[int]:
    """The requests sent at the same moment; their status codes in order."""
    return [response.status_code for response in at_once(*sends)]


def test_a_save_from_a_page_opened_before_another_save_is_refused_and_changes_nothing(shop):
    first, second = _operator(), _operator()
    # given two operators with the settings page open
    mine, theirs = _shown_form(first), _shown_form(second)
    assert mine["version"]
    # when the first switches 배송비 포함 on and saves, then the second saves 구매자가 적립 수단 선택 from their page
    assert first.post(URL, {**mine, "include_shipping": "on"}).status_code == 302
    response = second.post(URL, {**theirs, "buyer_chooses_earn": "on"})
    # then the second is told, nothing of theirs is saved, and the first's change stands
    page = response.content.decode()
    assert response.status_code == 409 and "다른 운영자가 설정을 먼저 바꿨습니다" in page
    stored = MileageSettings.objects.get(pk=1)
    assert stored.include_shipping and not stored.buyer_chooses_earn
    # and the page shows what is stored now, so a save from it goes through
    again = _shown_form(second)
    assert again.get("include_shipping") == "on"
    assert second.post(URL, {**again, "buyer_chooses_earn": "on"}).status_code == 302
    stored = MileageSettings.objects.get(pk=1)
    assert stored.include_shipping and stored.buyer_chooses_earn


def test_a_form_without_the_version_saves_its_fields_and_keeps_the_service_switch(shop):
    operator = _operator()
    operator.post(URL, {"action": "enable"})
    form = {key: value for key, value in _shown_form(operator).items() if key != "version"}
    operator.post(URL, {"action": "disable"})
    # a form that does not say which save it was made from is not compared, and never writes the switch back
    assert operator.post(URL, {**form, "include_shipping": "on"}).status_code == 302
    stored = MileageSettings.objects.get(pk=1)
    assert stored.include_shipping and not stored.service_enabled


@on_postgres
def test_two_operators_saving_at_once_never_lose_a_change_unseen(shop):
    for _round in range(3):
        first, second = _operator(), _operator()
        mine, theirs = _shown_form(first), _shown_form(second)
        before = MileageSettings.objects.get(pk=1)
        codes = _at_once(lambda c=first, d=mine: c.post(URL, {**d, "subtract_discounts": ""}),
                         lambda c=second, d=theirs: c.post(URL, {**d, "buyer_chooses_earn": "on"}))
        # one of the two is saved; the other is told nothing of theirs was
        assert sorted(codes) == [302, 409], codes
        stored = MileageSettings.objects.get(pk=1)
        if codes[0] == 302:
            assert not stored.subtract_discounts and stored.buyer_chooses_earn == before.buyer_chooses_earn
        else:
            assert stored.buyer_chooses_earn and stored.subtract_discounts == before.subtract_discounts
        MileageSettings.objects.filter(pk=1).update(subtract_discounts=True, buyer_chooses_earn=False)


@on_postgres
def test_switching_the_service_on_while_refused_keys_are_saved_never_leaves_it_on_with_them(shop):
    for _round in range(4):
        operator, other = _operator(), _operator()
        operator.post(URL, {"action": "disable"})
        form = {key: value for key, value in _shown_form(other).items() if key != "version"}
        good = MileageSettings.objects.get(pk=1)
        codes = _at_once(lambda c=operator: c.post(URL, {"action": "enable"}),
                         lambda c=other, d=form: c.post(URL, {**d, "hash_key": REFUSED_KEY}))
        assert codes[0] == 302 and codes[1] in (302, 400), codes
        stored = MileageSettings.objects.get(pk=1)
        if codes[1] == 400:  # switched on first: a key the provider refuses is not saved while the service runs
            assert stored.hash_key == good.hash_key and stored.service_enabled
        else:  # saved first, while off (kept, the operator is told): switching on with it is refused
            assert stored.hash_key == REFUSED_KEY and not stored.service_enabled
        MileageSettings.objects.filter(pk=1).update(hash_key=good.hash_key)


@on_postgres
def test_switching_the_service_off_while_another_operator_saves_the_form_leaves_it_off(shop):
    for _round in range(4):
        operator, other = _operator(), _operator()
        operator.post(URL, {"action": "enable"})
        assert MileageSettings.objects.get(pk=1).service_enabled
        form = {key: value for key, value in _shown_form(other).items() if key != "version"}
        codes = _at_once(lambda c=operator: c.post(URL, {"action": "disable"}),
                         lambda c=other, d=form: c.post(URL, d))
        assert codes == [302, 302], codes
        assert not MileageSettings.objects.get(pk=1).service_enabled


@on_postgres
def test_the_same_exclusion_set_by_several_operators_at_once_is_set_once(shop):
    product = Product.objects.filter(mileage_exclusion__isnull=True).order_by("pk").first()
    others = list(Product.objects.filter(mileage_exclusion__isnull=True).exclude(pk=product.pk).order_by("pk")[:2])
    operators = [_operator() for _ in range(6)]
    # overlapping selections, in different orders, at the same moment
    selections = [[product.pk], [product.pk, others[0].pk], [others[1].pk, product.pk], [product.pk],
                  [others[0].pk, product.pk, others[1].pk], [product.pk]]
    codes = _at_once(*[lambda o=o, chosen=chosen: o.post("/console/mileage/exclusions/", {
        "selection": chosen, "action": "set", "reason": "상품권"}) for o, chosen in zip(operators, selections,
                                                                                       strict=True)])
    assert set(codes) == {302}, codes
    for each in (product, *others):
        assert Exclusion.objects.filter(product=each, reason="상품권").count() == 1
        assert ExclusionChange.objects.filter(product=each).count() == 1

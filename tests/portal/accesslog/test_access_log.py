"""접속기록: each staff view of an order's personal data is one record; the records form a hash chain that
`manage.py verify_access_log` checks, naming the first tampered record; rows and querysets refuse edits."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from core.append_only import AppendOnlyError
from mileage.models import ExclusionReason
from portal.accesslog.models import AccessAction, AccessRecord
from portal.accesslog.services import access_log_verify, access_record
from portal.console.downloads import REASON_FIELD
from portal.orders.models import Order
from tests.factories import ProductFactory, paid_order_for

on_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                 reason="row locks between connections: PostgreSQL only")


@pytest.fixture
def operator_user(db):
    user = User.objects.create_user("op1", password="x")
    user.user_permissions.add(Permission.objects.get(codename="operate_console"))
    return user


@pytest.fixture
def operator(operator_user):
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(operator_user)
    return client


@pytest.mark.django_db
def test_viewing_an_order_detail_is_logged_once_with_who_where_and_which_order(operator, operator_user):
    order = paid_order_for([(ProductFactory(), 1)])
    response = operator.get(f"/console/orders/{order.number}/")
    assert response.status_code == 200
    [record] = AccessRecord.objects.all()
    assert (record.action, record.actor, record.actor_name, record.address, record.targets, record.count) == (
        AccessAction.ORDER_VIEW, operator_user, "op1", "203.0.113.7", [order.number], 1)


@pytest.mark.django_db
def test_a_receipt_served_to_an_operator_is_logged_a_buyer_s_own_is_not(operator):
    order = paid_order_for([(ProductFactory(), 1)])
    response = operator.get(f"/console/orders/{order.number}/receipt.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert list(AccessRecord.objects.values_list("action", "targets")) == [(AccessAction.RECEIPT, [order.number])]


@pytest.mark.django_db
def test_a_buyer_or_stranger_leaves_no_record_and_is_refused(client):
    order = paid_order_for([(ProductFactory(), 1)])
    assert client.get(f"/console/orders/{order.number}/").status_code in (302, 403)
    assert not AccessRecord.objects.exists()


@pytest.mark.django_db
def test_the_chain_verifies_and_a_changed_record_is_reported_by_its_id():
    records = [access_record(action=AccessAction.EXPORT, targets=[f"2026-{n}"], reason="정산 확인",
                             address="10.0.0.1") for n in range(5)]
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    call_command("verify_access_log")  # intact: no error
    # when someone edits the third record's reason behind the application's back
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accesslog_accessrecord SET reason = %s WHERE id = %s", ["변조", records[2].id])
    with pytest.raises(CommandError, match=rf"id={records[2].id}\b"):
        call_command("verify_access_log")


@pytest.mark.django_db
def test_a_removed_record_breaks_the_chain_at_the_next_one():
    records = [access_record(action=AccessAction.ORDER_VIEW, targets=[str(n)]) for n in range(4)]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accesslog_accessrecord WHERE id = %s", [records[1].id])
    assert access_log_verify().broken_id == records[2].id
    with connection.cursor() as cursor:  # the newest record removed: the head still names it
        cursor.execute("DELETE FROM accesslog_accessrecord WHERE id >= %s", [records[2].id])
    assert not access_log_verify().ok


@pytest.mark.django_db
def test_records_refuse_edits_and_deletes():
    record = access_record(action=AccessAction.ORDER_VIEW, targets=["1"])
    record.reason = "고침"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        AccessRecord.objects.filter(pk=record.pk).update(reason="고침")
    with pytest.raises(AppendOnlyError):
        AccessRecord.objects.all().delete()
    assert access_log_verify().ok


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    start = threading.Barrier(6)

    def writer(n):
        start.wait()
        try:
            for i in range(8):
                access_record(action=AccessAction.ORDER_VIEW, targets=[f"{n}-{i}"], address="10.0.0.2")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(writer, range(6)))
    assert list(AccessRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 49))
    assert AccessRecord.objects.values("prev_hash").distinct().count() == 48  # no two records share a parent
    assert access_log_verify().ok and access_log_verify().checked == 48


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_views_of_one_order_are_each_logged_once(operator_user):
    order = paid_order_for([(ProductFactory(), 1)])
    start = threading.Barrier(4)

    def view(_):
        client = Client()
        client.force_login(operator_user)
        start.wait()
        try:
            return client.get(f"/console/orders/{order.number}/").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(view, range(4))) == [200] * 4
    assert AccessRecord.objects.filter(action=AccessAction.ORDER_VIEW, targets=[order.number]).count() == 4
    assert access_log_verify().ok


@pytest.mark.django_db
def test_setting_and_unsetting_an_exclusion_is_logged_once_each_with_the_products(operator):
    shirt, hat = ProductFactory(), ProductFactory()
    operator.post("/console/mileage/exclusions/", {"selection": [shirt.pk, hat.pk], "action": "set",
                                                   "reason": ExclusionReason.GIFT_CERTIFICATE})
    operator.post("/console/mileage/exclusions/", {"selection": [hat.pk], "action": "unset"})
    assert list(AccessRecord.objects.order_by("seq").values_list("action", "targets", "count", "reason")) == [
        (AccessAction.SETTINGS, [shirt.code, hat.code], 2, "예외상품설정"),
        (AccessAction.SETTINGS, [hat.code], 1, "예외상품설정 해제"),
    ]


@pytest.mark.django_db
def test_an_exclusion_refused_or_with_nothing_chosen_leaves_no_record(operator):
    shirt = ProductFactory()
    operator.post("/console/mileage/exclusions/", {"action": "set", "reason": ExclusionReason.GIFT_CERTIFICATE})
    operator.post("/console/mileage/exclusions/", {"selection": [shirt.pk], "action": "set", "reason": "할인"})
    operator.post("/console/mileage/exclusions/", {"selection": [shirt.pk], "action": "unset"})
    assert not AccessRecord.objects.exists()


@pytest.fixture
def privacy_officer(db):
    user = User.objects.create_user("cpo", password="x")
    user.user_permissions.add(Permission.objects.get(codename="oversee_access_log"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_privacy_officer_finds_who_looked_at_one_order(operator, privacy_officer):
    order, other = paid_order_for([(ProductFactory(), 1)]), paid_order_for([(ProductFactory(), 1)])
    operator.get(f"/console/orders/{order.number}/")
    operator.get(f"/console/orders/{other.number}/receipt.pdf")
    page = privacy_officer.get("/console/access-log/", {"order": order.number}).content.decode()
    assert order.number in page and "op1" in page and "203.0.113.7" in page and "주문상세정보 조회" in page
    assert other.number not in page
    page = privacy_officer.get("/console/access-log/", {"action": AccessAction.RECEIPT}).content.decode()
    assert other.number in page and order.number not in page


@pytest.mark.django_db
def test_the_access_log_screen_is_the_privacy_officer_s_alone_and_bad_filters_change_nothing(operator,
                                                                                            privacy_officer):
    assert operator.get("/console/access-log/").status_code == 403
    response = privacy_officer.get("/console/access-log/", {"since": "2026-99-99", "page": "x"})
    assert response.status_code == 200
    # a period that ends before it starts is said, not answered with an empty list
    page = privacy_officer.get("/console/access-log/", {"since": "2026-12-31", "until": "2026-01-01"})
    assert "종료일이 시작일보다 앞섭니다" in page.content.decode()


@pytest.mark.django_db
def test_the_menu_shows_the_access_log_to_its_holders_only(operator, operator_user):
    order = paid_order_for([(ProductFactory(), 1)])
    assert "/console/access-log/" not in operator.get(f"/console/orders/{order.number}/").content.decode()
    operator_user.user_permissions.add(Permission.objects.get(codename="oversee_access_log"))
    operator.force_login(User.objects.get(pk=operator_user.pk))
    assert "/console/access-log/" in operator.get(f"/console/orders/{order.number}/").content.decode()


@pytest.mark.django_db
def test_switching_the_service_off_is_logged_once(operator):
    response = operator.post("/console/mileage/settings/", {"action": "disable"})
    assert response.status_code == 302
    assert list(AccessRecord.objects.values_list("action", "targets", "reason")) == [
        (AccessAction.SETTINGS, ["네이버 마일리지 서비스 사용"], "노출설정 및 셋팅")]


@pytest.mark.django_db
def test_saving_the_business_details_appends_a_record_naming_the_changed_fields_only():
    from wagtail.models import Site

    from cms_pages.models import MerchantDetails

    site = Site.objects.get(is_default_site=True)
    required = {"company_name": "마일리지샵", "representative": "홍길동", "business_number": "123-45-67890",
                "address": "서울 동작구 신대방2동"}
    MerchantDetails.objects.create(site=site, deposit_account_no="11231-23-2123", **required)
    admin = User.objects.create_superuser("boss", password="x")
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(admin)
    url = f"/cms/settings/cms_pages/merchantdetails/{site.pk}/"
    form = {**required, "deposit_account_no": "99999-99-9999", "email": "shop@example.com"}
    assert client.post(url, form).status_code == 302
    record = AccessRecord.objects.get()
    assert (record.action, record.actor, record.address) == (AccessAction.SETTINGS, admin, "203.0.113.9")
    assert sorted(record.targets) == ["무통장입금 계좌번호", "이메일"] and record.count == 2
    assert "99999" not in str(record.targets) + record.reason and "shop@example.com" not in record.reason
    # a save that changes nothing adds nothing; a refused form neither
    assert client.post(url, form).status_code == 302
    assert client.post(url, {**form, "email": "not an address"}).status_code == 200
    # what buyers copy (the account they pay into, the numbers in the footer) is digits and hyphens, or refused
    for field, junk in (("deposit_account_no", "'; DROP TABLE x;--"), ("deposit_account_no", "１２３４５６"),
                        ("business_number", "-1"), ("phone", "99999999999999999999")):
        refused = client.post(url, {**form, field: junk})
        assert refused.status_code == 200 and "숫자" in refused.content.decode(), (field, junk)
    assert MerchantDetails.objects.get(site=site).deposit_account_no == "99999-99-9999"
    assert AccessRecord.objects.count() == 1 and access_log_verify().broken_id is None


@pytest.mark.django_db
def test_the_business_details_the_law_asks_for_are_never_saved_blank():
    from wagtail.models import Site

    from cms_pages.models import MerchantDetails

    site = Site.objects.get(is_default_site=True)
    required = {"company_name": "마일리지샵", "representative": "홍길동", "business_number": "123-45-67890",
                "address": "서울 동작구 신대방2동"}
    MerchantDetails.objects.create(site=site, **required)
    client = Client()
    client.force_login(User.objects.create_superuser("boss", password="x"))
    url = f"/cms/settings/cms_pages/merchantdetails/{site.pk}/"
    for field in required:
        for blank in ("", "   "):
            refused = client.post(url, {**required, field: blank})
            assert refused.status_code == 200, field
            assert "꼭 표시해야 하는 사업자 정보입니다" in refused.content.decode(), field
    assert MerchantDetails.objects.filter(site=site, **required).exists()
    assert not AccessRecord.objects.exists()


@pytest.mark.django_db
def test_every_settings_change_is_logged_by_its_label_and_read_in_the_reader_s_language(operator, privacy_officer):
    from mileage.models import MileageSettings

    settings_row = MileageSettings.load()
    settings_row.api_id, settings_row.hash_key = "ABC123", "a" * 40  # kept: the form's blank hash key keeps it
    settings_row.save()
    form = {"version": settings_row.version, "api_id": settings_row.api_id, "hash_key": "",
            "subtract_discounts": "on", "subtract_store_points": "on", "store_points_first": "on",
            "store_points_rate": "1.5", "provider_profile": settings_row.provider_profile, "action": "save"}
    # the store points' rate is a form field of its own (in %), kept ×10: its change is logged all the same
    response = operator.post("/console/mileage/settings/", form)
    assert response.status_code == 302, re.findall(r"invalid-feedback[^>]*>([^<]+)", response.content.decode())
    record = AccessRecord.objects.get()
    assert (record.action, record.targets, record.reason) == (
        AccessAction.SETTINGS, ["쇼핑몰 적립금 적립률"], "노출설정 및 셋팅")
    # the record keeps the portal's words once; an English reader reads them in English, on screen and exported
    privacy_officer.cookies["django_language"] = "en"
    page = privacy_officer.get("/console/access-log/").content.decode()
    assert "노출설정 및 셋팅" not in page and "쇼핑몰 적립금 적립률" not in page
    exported = privacy_officer.post("/console/access-log/?export=csv", {REASON_FIELD: "점검"})
    assert exported.status_code == 200, exported.status_code
    text = b"".join(exported.streaming_content if exported.streaming else [exported.content]).decode("utf-8-sig")
    assert "노출설정 및 셋팅" not in text and "쇼핑몰 적립금 적립률" not in text


@pytest.mark.django_db
def test_a_search_by_a_buyer_s_name_or_phone_is_logged_with_the_orders_it_showed(operator, operator_user):
    # given two orders of 김영희 and one of 박철수
    product = ProductFactory()
    orders = [paid_order_for([(product, 1)]) for _ in range(3)]
    for order, (name, phone) in zip(orders, [("김영희", "010-2468-1357")] * 2 + [("박철수", "010-9753-8642")], strict=True):
        Order.objects.filter(pk=order.pk).update(orderer_name=name, orderer_phone=phone)
    hers = orders[:2]
    # when an operator searches 주문조회 by a first letter, then by a phone number
    assert operator.get("/console/orders/", {"orderer_name": "김"}).status_code == 200
    assert operator.get("/console/orders/", {"phone": "010-9753"}).status_code == 200
    # and opens the queue, filters it by status only and searches 환불관리 by a holder
    operator.get("/console/orders/")
    operator.get("/console/orders/", {"status": "paid"})
    assert operator.get("/console/refunds/", {"holder": "김"}).status_code == 200
    # then each search by personal data is one record: who, where, by what, which orders it showed
    records = list(AccessRecord.objects.order_by("seq"))
    assert [(r.action, r.actor, r.address, r.reason) for r in records] == [
        (AccessAction.SEARCH, operator_user, "203.0.113.7", "주문자명"),
        (AccessAction.SEARCH, operator_user, "203.0.113.7", "휴대전화"),
        (AccessAction.SEARCH, operator_user, "203.0.113.7", "예금주"),
    ]
    assert sorted(records[0].targets) == sorted(o.number for o in hers) and records[0].count == 2
    assert records[1].count == 1 and records[2].targets == [] and records[2].count == 0
    # and the typed term is not itself kept in the log
    assert not any("김" in r.content() or "9753" in r.content() for r in records)

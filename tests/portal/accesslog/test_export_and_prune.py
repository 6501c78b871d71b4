"""The access log's own export (CSV/XLSX from 접속기록, after a 다운로드 사유, itself one record) and its pruning past
ACCESS_LOG_RETENTION_DAYS: a monthly run claimed by one node, deleting the oldest records behind a checkpoint that
keeps the chain verifiable; tested with the clock moved."""

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

import portal.accesslog.tasks as tasks
from portal.accesslog.checks import access_log_retention
from portal.accesslog.models import AccessAction, AccessRecord, ChainHead, PruneRun
from portal.accesslog.services import access_log_prune, access_log_verify, access_record
from tests.factories import ProductFactory, paid_order_for
from tests.portal.console.downloads import download

on_postgres = pytest.mark.skipif("postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
                                 reason="row locks between connections: PostgreSQL only")


@pytest.fixture(autouse=True)
def _fresh_scheduler_memo(monkeypatch):
    """Each test is a fresh scheduler process: it has not seen this month's run claimed."""
    monkeypatch.setattr(tasks.MONTHLY, "claimed", None)


@pytest.fixture
def clock(monkeypatch):
    """Moves Django's clock (django.utils.timezone.now) forward by a number of days from the real one."""
    real = timezone.now
    offset = {"days": 0}
    monkeypatch.setattr(timezone, "now", lambda: real() + timedelta(days=offset["days"]))

    def move(days: float) -> None:
        offset["days"] = days

    return move


@pytest.fixture
def privacy_officer(db):
    user = User.objects.create_user("cpo", password="x")
    user.user_permissions.add(Permission.objects.get(codename="oversee_access_log"))
    client = Client(REMOTE_ADDR="198.51.100.4")
    client.force_login(user)
    return client


def records(n: int, *, first: int = 0) -> None:
    for i in range(first, first + n):
        access_record(action=AccessAction.ORDER_VIEW, targets=[f"2026{i:04d}"], address="203.0.113.9")


@pytest.mark.django_db
def test_the_privacy_officer_exports_the_filtered_log_after_a_reason_recorded_once(privacy_officer):
    records(3)
    access_record(action=AccessAction.RECEIPT, targets=["20260099"])
    url = "/console/access-log/"
    refused = privacy_officer.post(url + "?export=csv&action=order_view", {"reason": "  "})
    assert refused.status_code == 400 and "다운로드 사유를 입력해 주세요." in refused.content.decode()
    assert not AccessRecord.objects.filter(action=AccessAction.EXPORT).exists()
    response = download(privacy_officer, url, {"export": "csv", "action": "order_view"}, reason="분기 점검")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 4 and rows[0][0] == "순번" and {row[5] for row in rows[1:]} == {
        "20260000", "20260001", "20260002"}
    chained = {record.seq: record.hash for record in AccessRecord.objects.all()}
    assert all(chained[int(row[0])] == row[9] for row in rows[1:])  # each record with its hash
    [export] = AccessRecord.objects.filter(action=AccessAction.EXPORT)
    assert (export.count, export.reason, export.actor_name, export.address) == (3, "분기 점검", "cpo", "198.51.100.4")
    book = load_workbook(io.BytesIO(download(privacy_officer, url, {"export": "xlsx"}).content))
    assert book.active.max_row == 1 + 5  # four records and the first export's own
    assert AccessRecord.objects.filter(action=AccessAction.EXPORT).count() == 2
    assert access_log_verify().ok


@pytest.mark.django_db
def test_nobody_but_the_privacy_officer_exports_the_log(client):
    operator = User.objects.create_user("op1", password="x")
    operator.user_permissions.add(Permission.objects.get(codename="operate_console"))
    client.force_login(operator)
    assert client.get("/console/access-log/", {"export": "csv"}).status_code == 403
    assert client.post("/console/access-log/?export=csv", {"reason": "궁금해서"}).status_code == 403
    assert not AccessRecord.objects.exists()


@pytest.mark.django_db
def test_pruning_deletes_only_the_records_past_the_period_behind_a_checkpoint(clock, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 730
    records(3)  # today
    clock(400)
    records(2, first=3)  # 400 days later
    # nothing is past the period yet
    assert access_log_prune().pruned == 0 and not AccessRecord.objects.filter(action=AccessAction.CHECKPOINT).exists()
    clock(731)  # the first three are now past 730 days, the next two are 331 days old
    last_pruned = AccessRecord.objects.get(seq=3).hash
    report = access_log_prune()
    assert report.pruned == 3
    kept = list(AccessRecord.objects.order_by("seq"))
    assert [r.targets for r in kept[:2]] == [["20260003"], ["20260004"]]
    checkpoint = kept[-1]
    assert (checkpoint.action, checkpoint.count, checkpoint.seq) == (AccessAction.CHECKPOINT, 3, 6)
    assert checkpoint.targets == ["seq:3", f"hash:{last_pruned}"] and kept[0].prev_hash == last_pruned
    assert checkpoint.hash == ChainHead.objects.get().last_hash
    report = access_log_verify()
    assert report.ok and report.checked == 3
    # the chain goes on after the checkpoint and still verifies
    records(1, first=9)
    assert access_log_verify().ok
    # a record removed behind the pruning's back (the oldest kept) is found: no checkpoint covers the gap
    models.QuerySet.delete(AccessRecord.objects.filter(pk=kept[0].pk))
    broken = access_log_verify()
    assert not broken.ok and broken.broken_id == kept[1].id


@pytest.mark.django_db
def test_a_checkpoint_whose_hash_is_edited_no_longer_covers_the_pruned_records(clock, settings):
    records(2)
    clock(800)
    records(1, first=2)
    access_log_prune()
    assert access_log_verify().ok
    checkpoint = AccessRecord.objects.get(action=AccessAction.CHECKPOINT)
    oldest = AccessRecord.objects.order_by("seq").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accesslog_accessrecord SET targets = %s WHERE id = %s",
                       ['["seq:1", "hash:' + "f" * 64 + '"]', checkpoint.pk])
    # the oldest record kept is no longer covered (named first); the checkpoint's own hash no longer holds either
    assert not access_log_verify().ok
    with pytest.raises(CommandError, match=f"id={oldest.pk} "):
        call_command("verify_access_log")


@pytest.mark.django_db
def test_when_every_record_is_past_the_period_the_checkpoint_is_the_oldest_and_verifies(clock):
    records(4)
    clock(1000)
    assert access_log_prune().pruned == 4
    [checkpoint] = AccessRecord.objects.all()
    assert checkpoint.action == AccessAction.CHECKPOINT and access_log_verify().ok
    assert access_log_prune().pruned == 0  # the checkpoint itself is new


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_prunes_once_a_month_on_one_node(clock, settings):
    settings.RETENTION_HOUR = 0
    records(2)
    clock(735)
    assert tasks.access_log_tick() is True
    run = PruneRun.objects.get()
    assert run.finished_at is not None and run.pruned == 2
    assert tasks.access_log_tick() is False  # its next ticks this month cost nothing
    tasks.MONTHLY.claimed = None  # another node (a fresh process) finds the month taken
    assert tasks.access_log_tick() is False and PruneRun.objects.count() == 1
    clock(735 + 32)  # the next month is another run
    assert tasks.access_log_tick() is True and PruneRun.objects.count() == 2
    assert access_log_verify().ok


def test_a_retention_below_a_year_is_refused_at_start(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 364
    assert [error.id for error in access_log_retention(None)] == ["accesslog.E001"]
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    assert access_log_retention(None) == []


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_prunings_and_writers_at_once_prune_once_and_keep_the_chain(clock):
    records(10)
    clock(800)
    start = threading.Barrier(6)

    def work(n):
        start.wait()
        try:
            if n < 2:
                return access_log_prune().pruned
            for i in range(5):
                access_record(action=AccessAction.ORDER_VIEW, targets=[f"w{n}-{i}"])
            return 0
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, range(6)))
    assert sorted(results[:2]) == [0, 10]  # the second pruning found nothing left past the period
    [checkpoint] = AccessRecord.objects.filter(action=AccessAction.CHECKPOINT)
    assert checkpoint.count == 10
    seqs = list(AccessRecord.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(11, 32))  # 20 written meanwhile and the checkpoint, no holes
    report = access_log_verify()
    assert report.ok and report.checked == 21


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reveals_of_one_order_are_each_recorded_once():
    order = paid_order_for([(ProductFactory(), 1)])
    user = User.objects.create_user("op2", password="x")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["operate_console", "view_personal_data"]))
    start = threading.Barrier(4)

    def reveal(n):
        client = Client()
        client.force_login(user)
        start.wait()
        try:
            return client.post(f"/console/orders/{order.number}/", {"reason": f"문의 {n}"}).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(reveal, range(4))) == [200] * 4
    reveals = AccessRecord.objects.filter(action=AccessAction.REVEAL, targets=[order.number])
    assert sorted(reveals.values_list("reason", flat=True)) == [f"문의 {n}" for n in range(4)]
    assert not AccessRecord.objects.filter(action=AccessAction.ORDER_VIEW).exists()
    assert access_log_verify().ok

"""Finding 8: a member who forgot the password resets it through a link sent by e-mail."""

import re

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


def test_member_resets_a_forgotten_password_by_email():
    # given the demo member 홍길동 on the login page
    load_demo()
    client = Client()
    assert "/accounts/password/reset/" in client.get("/accounts/login/").content.decode()
    # when he asks for a reset
    response = client.post("/accounts/password/reset/", {"email": "hong@example.com"}, follow=True)
    assert "이메일을 확인해 주세요" in response.content.decode()
    # then one mail, in Korean, carries a one-time link
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert mail.outbox[0].to == ["hong@example.com"] and "비밀번호 재설정" in mail.outbox[0].subject
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", body).group(1)
    form = client.get(link, follow=True)
    assert "새 비밀번호 설정" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0] if form.redirect_chain else link,
                       {"new_password1": "새비번Xy9!long", "new_password2": "새비번Xy9!long"}, follow=True)
    assert "새 비밀번호로 로그인할 수 있습니다" in done.content.decode()
    login = Client().post("/accounts/login/", {"username": "hong", "password": "새비번Xy9!long"})
    assert login.status_code == 302
    # and the link works once only
    assert "재설정 링크가 올바르지 않거나" in client.get(link, follow=True).content.decode()


def test_unknown_address_sends_nothing_and_says_the_same():
    load_demo()
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)
    assert "이메일을 확인해 주세요" in response.content.decode()
    assert mail.outbox == []


def test_development_mail_goes_to_var_mail():
    from portal.settings import dev

    assert dev.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
    assert str(dev.EMAIL_FILE_PATH).endswith("var/mail")
    assert django_settings.EMAIL_BACKEND.endswith("locmem.EmailBackend")  # tests keep mail in memory


def test_reset_links_are_rate_limited_per_email_and_per_address(settings):
    # given a fresh window (the test cache is per process)
    from django.core.cache import cache

    cache.clear()
    load_demo()
    settings.PASSWORD_RESET_EMAIL_LIMIT = 3
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 5
    client = Client()
    # when someone asks for hong's link again and again
    answers = [client.post("/accounts/password/reset/", {"email": "hong@example.com"}, follow=True) for _ in range(5)]
    # then three links go out, and the fourth and fifth are refused with a reason and send nothing
    assert len(mail.outbox) == 3
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429]
    assert "재설정 요청이 너무 많습니다. 늦어도 60분 뒤에는 다시 요청할 수 있습니다." in answers[3].content.decode()
    # and the same address is stopped after five tries whatever e-mail it types (known or not: same answer)
    other = client.post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)
    assert other.status_code == 429 and len(mail.outbox) == 3
    # while another address may still ask for its own link
    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    elsewhere.post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)
    assert elsewhere.post("/accounts/password/reset/", {"email": "nobody@example.com"},
                          follow=True).status_code == 200


def test_a_mail_server_that_is_down_never_shows_an_error_page(settings, caplog):
    """Django's reset form logs a refused send (django.contrib.auth) and answers as if sent: kept so."""
    # given the mail server refusing every connection (and the reset counters of earlier tests gone)
    from django.core.cache import cache

    cache.clear()
    load_demo()
    settings.EMAIL_BACKEND = "tests.support.mail.RefusingBackend"
    # when a known and an unknown address ask for a link
    answers = [Client().post("/accounts/password/reset/", {"email": email}, follow=True)
               for email in ("hong@example.com", "nobody@example.com")]
    # then both read the same page (no 500 that would tell the known address apart), and the failure is logged
    assert [a.status_code for a in answers] == [200, 200]
    assert all("이메일을 확인해 주세요" in a.content.decode() for a in answers)
    assert mail.outbox == [] and "Failed to send password reset email" in caplog.text

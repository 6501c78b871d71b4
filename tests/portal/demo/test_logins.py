"""The demo's logins as README lists them: the 개인정보 보호책임자 reads the access log, an operator does not."""

import pytest
from django.test import Client

from portal.demo.shop import load_demo

pytestmark = pytest.mark.django_db


def _login(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, username  # the README's password works
    return client


def test_the_privacy_officer_reads_the_access_log_and_an_operator_does_not():
    load_demo()
    officer, operator = _login("privacy", "privacy1234!"), _login("operator", "operator1234!")
    page = officer.get("/console/access-log/")
    assert page.status_code == 200 and 'href="/console/access-log/"' in page.content.decode()
    assert operator.get("/console/access-log/").status_code == 403
    assert 'href="/console/access-log/"' not in operator.get("/console/").content.decode()
    assert officer.get("/console/orders/").status_code == 200  # and works the console as an operator

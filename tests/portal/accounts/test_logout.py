"""로그아웃 from the shop's header or the console's: back to the shop's home, never Django's admin page."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.support.db_state import load_demo


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["hong", "operator"])
def test_logging_out_lands_on_the_shops_home(username):
    load_demo()
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in client.session
    home = client.get("/").content.decode()
    assert "django-admin" not in home and "Django" not in home

"""The editors' Wagtail dashboard reads in Korean: the strings Wagtail 8's own Korean catalogue lacks are in
locale/ko, and no upgrade notice calls out of the editor's browser."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


def test_the_editors_dashboard_reads_in_korean():
    load_demo()
    editor = Client()
    editor.force_login(User.objects.get(username="editor"))
    page = editor.get("/cms/").content.decode()
    for english in ("Keyboard shortcuts", "Toggle minimap", "Paste without formatting", "Pages <span",
                    "created in", "editor guide", "Wagtail upgrade available"):
        assert english not in page, english
    assert "키보드 단축키" in page and "편집자 안내서" in page and "페이지 " in page

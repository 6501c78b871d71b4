"""The browser tests' live server on the suite's in-memory SQLite database: its request threads share the test's one
connection, so they must take turns, or two requests at once leave that connection's transaction state broken for
every test that runs after them on the same worker."""

import re
import threading

import pytest
import requests
from django.db import connection

from portal.catalog.models import Product
from portal.demo.shop import load_demo

pytestmark = pytest.mark.django_db(transaction=True)


def test_buyers_pressing_at_once_leave_the_shared_connection_as_they_found_it(live_server):
    load_demo()
    code = Product.objects.filter(is_displayed=True).values_list("code", flat=True).first()
    failures, done = [], []

    def buyer():
        with requests.Session() as browser:
            page = browser.get(f"{live_server.url}/shop/p/{code}/", timeout=30)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            for _ in range(15):
                answer = browser.post(f"{live_server.url}/shop/cart/add/", {"code": code, "quantity": "1",
                                      "csrfmiddlewaretoken": token}, timeout=30, allow_redirects=False)
                (done if answer.status_code == 302 else failures).append(answer.status_code)

    buyers = [threading.Thread(target=buyer) for _ in range(6)]
    for each in buyers:
        each.start()
    for each in buyers:
        each.join()

    assert failures == [] and len(done) == 6 * 15  # every press answered (a buyer's thread that died answers none)
    assert (connection.in_atomic_block, connection.get_autocommit()) == (False, True)

"""The worked examples of docs/policy.md on the provider's side, asked of the sandbox as a real process over
its wire protocol alone (raw HTTP with mileage.wire, not the shop's client), so that what is checked here is
the sandbox's own implementation of the rules."""

import re
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from mileage import wire
from tests.sandbox_process import PopupRefused

pytestmark = pytest.mark.sandbox
KST = ZoneInfo("Asia/Seoul")
DAY = 24 * 3600
DONE_URL = "http://127.0.0.1:9/mileage/done"


class Shop:
    """A merchant talking to the sandbox the way docs/protocol.md says, with nothing of the portal but
    mileage.wire."""

    def __init__(self, sandbox, merchant):
        self.sandbox, (self.api_id, self.hash_key) = sandbox, merchant
        self.base = sandbox.base_url

    def choose(self, login: str, use: int, max_use: int, ncisy: str = "") -> dict[str, str]:
        stamp = int(time.time())
        query = urlencode({"doneUrl": DONE_URL, "maxUseAmount": max_use, "Ncisy": ncisy, "reqTxId": "",
                           "sig": wire.popup_signature(self.hash_key, stamp, DONE_URL), "timestamp": stamp})
        return self.sandbox.choose_in_popup(f"{self.base}/service/v2/accumulation/{self.api_id}?{query}", login, use)

    def call(self, path: str, **fields) -> dict:
        response = requests.post(f"{self.base}/v2/partner/{self.api_id}/{path}",
                                 data={"format": "json", "secret": self.hash_key, **fields},
                                 headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=10)
        response.raise_for_status()
        return response.json()["response"]

    @staticmethod
    def _order_fields(*, order_amount: int, amount: int, use: int, name: str = "샘플상품 1") -> dict:
        items = wire.encode_items([wire.WireItem("1", name, order_amount, 1, order_amount, "대분류 1")])
        return {"orderProductName": wire.order_product_name(name), "qty": "1", "orderAmount": str(order_amount),
                "amount": str(amount), "mileageUseAmount": str(use), "cashUseAmount": "0", "isMember": "Y",
                "items": items}

    def approve(self, choice: dict, *, order_amount: int, amount: int, confirmed: bool, name="샘플상품 1") -> dict:
        return self.call("payment", reqTxId=choice["reqTxId"], orderNo=f"O{uuid.uuid4().hex[:10]}",
                         isConfirmed="Y" if confirmed else "N",
                         **self._order_fields(order_amount=order_amount, amount=amount,
                                              use=int(choice["mileageUseAmount"]), name=name))

    def repayment(self, tx_id: str, *, order_amount: int, amount: int, use: int) -> dict:
        return self.call(f"repayment/{tx_id}", orderNo="(kept)",
                         **self._order_fields(order_amount=order_amount, amount=amount, use=use))

    def rates(self) -> dict:
        response = requests.get(f"{self.base}/v2/partner/{self.api_id}/getAccumRate", params={"format": "json"},
                                timeout=10)
        return response.json()["response"]

    def partner_center(self) -> tuple[requests.Session, str, str]:
        """Logged into the partner center with the hash key: the session, the page's address and its text."""
        browser = requests.Session()
        url = f"{self.base}/partner/{self.api_id}/"
        page = browser.get(url, timeout=10)
        page = browser.post(url, data={"csrfmiddlewaretoken": _csrf(page.text), "hash_key": self.hash_key},
                            timeout=10)
        page.raise_for_status()
        return browser, url, page.text

    def request_rate_in_partner_center(self, rate: str) -> str:
        browser, url, page = self.partner_center()
        page = browser.post(url, data={"csrfmiddlewaretoken": _csrf(page), "action": "rate", "rate": rate},
                            timeout=10)
        page.raise_for_status()
        return page.text


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.fixture
def shop(sandbox, merchant):
    return Shop(sandbox, merchant)


def _move_clock_to(sandbox, moment: datetime) -> None:
    now = datetime.fromisoformat(sandbox.reset_clock()["now"])
    sandbox.advance(int((moment - now).total_seconds()))


def test_given_sample_product_1_with_500_used_when_paid_by_card_then_45_won_pending_for_15_days(sandbox_clock, shop):
    buyer = sandbox_clock.new_buyer(15_500)
    # given the buyer chooses 500원 in the popup for sample product 1 (5,000원)
    choice = shop.choose(buyer, 500, 5_000)
    assert (choice["resultCode"], choice["mileageUseAmount"], choice["balanceAmount"]) == ("OK", "500", "15000")
    # when the shop asks the approval of a card payment: amount 4,500원 at the base rate of 1%
    answer = shop.approve(choice, order_amount=5_000, amount=4_500, confirmed=True)
    # then the provider grants 45원, pending, and takes the 500원
    assert (answer["resultCode"], answer["baseAccumRate"], answer["baseAccumAmount"]) == ("1000", "1", 45)
    balance = sandbox_clock.balance(buyer)
    assert (balance["available"], balance["pending"]) == (15_000, 45)
    # and 15 days after the payment the 45원 becomes available, not a minute before (E7)
    sandbox_clock.advance(15 * DAY - 60)
    assert (sandbox_clock.balance(buyer)["available"], sandbox_clock.balance(buyer)["pending"]) == (15_000, 45)
    sandbox_clock.advance(60)
    assert (sandbox_clock.balance(buyer)["available"], sandbox_clock.balance(buyer)["pending"]) == (15_045, 0)


def test_given_the_manual_order_unpaid_when_cancelled_before_payment_then_the_500_won_returns_at_once(sandbox, shop):
    buyer = sandbox.new_buyer(15_500)
    # given the manual's order placed by bank transfer: the use is taken, the earn not yet pending (E7)
    answer = shop.approve(shop.choose(buyer, 500, 5_000), order_amount=5_000, amount=4_500, confirmed=False)
    assert answer["baseAccumAmount"] == 45
    assert (sandbox.balance(buyer)["available"], sandbox.balance(buyer)["pending"]) == (15_000, 0)
    # when the shop cancels it before the deposit (입금전 취소)
    cancelled = shop.call(f"payment/{answer['txId']}/cancel")
    # then the 500원 used is back and nothing is pending (L2)
    assert cancelled["resultCode"] == "1000"
    assert (sandbox.balance(buyer)["available"], sandbox.balance(buyer)["pending"]) == (15_500, 0)


@pytest.mark.extended
def test_given_the_manual_order_paid_when_refunded_then_the_500_won_returns_and_the_45_won_is_withdrawn(sandbox, shop):
    buyer = sandbox.new_buyer(15_500)
    answer = shop.approve(shop.choose(buyer, 500, 5_000), order_amount=5_000, amount=4_500, confirmed=True)
    assert sandbox.balance(buyer)["pending"] == 45
    # when the refund is completed (현금환불 4,500원 + 네이버 마일리지 반환액 500원)
    assert shop.call(f"payment/{answer['txId']}/cancel")["resultCode"] == "1000"
    # then the buyer has the 500원 back and no earning
    assert (sandbox.balance(buyer)["available"], sandbox.balance(buyer)["pending"]) == (15_500, 0)
    month = datetime.now(KST).strftime("%Y-%m")
    report = shop.call(f"settlement/{month}")
    # and the month's report nets the order out: nothing earned, nothing used, 545원 cancelled
    assert (report["totals"]["earned"], report["totals"]["used"], report["totals"]["cancelled"]) == (0, 0, 545)


def test_the_partner_center_states_the_months_balance_and_who_pays_whom(sandbox, shop):
    # given the manual's order: 500원 used (the provider owes it), 45원 earned (the merchant owes it)
    buyer = sandbox.new_buyer(15_500)
    shop.approve(shop.choose(buyer, 500, 5_000), order_amount=5_000, amount=4_500, confirmed=True)
    # then the partner center reads as the portal's 정산 does: 455원, the provider paying the merchant
    _browser, _url, page = shop.partner_center()
    assert '정산 차액 <strong id="balance">455원</strong> (<span id="payer">네이버가 가맹점에 지급</span>)' in page


def test_given_the_exchange_for_sample_product_6_when_re_approved_then_the_earn_stays_on_4500_won(sandbox, shop):
    buyer = sandbox.new_buyer(15_500)
    # given the manual's order paid by card
    first = shop.approve(shop.choose(buyer, 500, 5_000), order_amount=5_000, amount=4_500, confirmed=True)
    # when it is exchanged for sample product 6 (30,000원): the 500원 mileage returned, the earn basis 4,500원 (L5)
    again = shop.repayment(first["txId"], order_amount=30_000, amount=4_500, use=0)
    # then a new txId replaces the old one, at the original rate, still earning 45원, and the 500원 is back
    assert again["resultCode"] == "1000" and again["txId"] != first["txId"]
    assert (again["baseAccumRate"], again["baseAccumAmount"], again["mileageUseAmount"]) == ("1", 45, 0)
    assert (sandbox.balance(buyer)["available"], sandbox.balance(buyer)["pending"]) == (15_500, 45)


def test_given_the_standard_shirt_through_an_ad_when_paid_then_5_plus_5_percent_earns_2100_won(sandbox):
    merchant = sandbox.new_merchant(rate="5", ad_extra_rate="5")
    shop = Shop(sandbox, merchant)
    buyer = sandbox.new_buyer(0)
    # given the buyer arrived through the provider's ad (a signed NaPm token with an extra 5%)
    click = requests.get(f"{shop.base}/ad/{shop.api_id}/", params={"to": "http://127.0.0.1:9/shop/"},
                         allow_redirects=False, timeout=10)
    token = unquote(dict(parse_qsl(urlsplit(click.headers["Location"]).query))["NaPm"])
    # when "스탠다드 5부 셔츠" (21,000원) is paid without mileage
    choice = shop.choose(buyer, 0, 21_000, ncisy=token)
    answer = shop.approve(choice, order_amount=21_000, amount=21_000, confirmed=True, name="스탠다드 5부 셔츠")
    # then the popup and the approval say 5% + 5%, and the buyer earns 2,100원
    assert (choice["baseAccumRate"], choice["addAccumRate"]) == ("5", "5")
    assert (answer["baseAccumRate"], answer["addAccumRate"], answer["baseAccumAmount"]) == ("5", "5", 2_100)


def test_given_a_token_the_provider_did_not_sign_when_paid_then_only_the_base_rate(sandbox):
    shop = Shop(sandbox, sandbox.new_merchant(rate="5", ad_extra_rate="5"))
    forged = wire.mint_napm("not-the-providers-key", visited_at=datetime.now(KST), channel="x", traffic_type="sa",
                            base_rate_x10=50, extra_rate_x10=50, expires_at=datetime.now(KST) + timedelta(hours=6))
    answer = shop.approve(shop.choose(sandbox.new_buyer(0), 0, 21_000, ncisy=forged), order_amount=21_000,
                          amount=21_000, confirmed=True)
    assert (answer["addAccumRate"], answer["baseAccumAmount"]) == ("0", 1_050)


def test_given_an_unpaid_bank_transfer_when_15_days_pass_then_the_provider_cancels_it(sandbox_clock, shop):
    buyer = sandbox_clock.new_buyer(15_500)
    answer = shop.approve(shop.choose(buyer, 500, 5_000), order_amount=5_000, amount=4_500, confirmed=False)
    sandbox_clock.advance(15 * DAY - 60)
    assert sandbox_clock.balance(buyer)["available"] == 15_000
    # when the 15th day ends without a deposit (E8)
    sandbox_clock.advance(60)
    # then the order's use is returned and its transaction is cancelled by the provider
    balance = sandbox_clock.balance(buyer)
    assert (balance["available"], balance["pending"]) == (15_500, 0)
    assert [t["state"] for t in balance["transactions"] if t["txId"] == answer["txId"]] == ["AUTO_CANCELLED"]


def test_given_a_3_million_won_order_when_earned_at_1_percent_then_20000_won_at_most(sandbox, shop):
    answer = shop.approve(shop.choose(sandbox.new_buyer(0), 0, 3_000_000), order_amount=3_000_000,
                          amount=3_000_000, confirmed=True)
    assert answer["baseAccumAmount"] == 20_000


def test_given_a_buyer_holding_495000_when_earning_20000_then_only_5000_fits(sandbox, shop):
    buyer = sandbox.new_buyer(495_000)
    answer = shop.approve(shop.choose(buyer, 0, 3_000_000), order_amount=3_000_000, amount=3_000_000,
                          confirmed=True)
    assert answer["baseAccumAmount"] == 5_000
    assert sandbox.balance(buyer)["available"] + sandbox.balance(buyer)["pending"] == 500_000
    # and at 500,000원 the next order earns nothing (E4: use only)
    again = shop.approve(shop.choose(buyer, 0, 10_000), order_amount=10_000, amount=10_000, confirmed=True)
    assert again["baseAccumAmount"] == 0


@pytest.mark.parametrize("use", [499, 1])
def test_given_a_use_below_500_won_when_confirmed_in_the_popup_then_it_is_refused_with_the_minimum(sandbox, shop,
                                                                                                     use):
    with pytest.raises(PopupRefused) as refused:
        shop.choose(sandbox.new_buyer(15_500), use, 5_000)
    assert refused.value.status == 400
    assert "500원부터" in refused.value.html


@pytest.mark.extended
def test_given_requests_on_20_and_27_november_when_the_rates_are_read_then_december_and_january_apply(
        sandbox_clock, shop):
    year = datetime.now(KST).year + 1
    # given the merchant at 1% asks for 2% on 20 November (before the 26th's cut-off)
    _move_clock_to(sandbox_clock, datetime(year, 11, 20, 12, 0, tzinfo=KST))
    page = shop.request_rate_in_partner_center("2")
    assert f"{year}년 12월부터" in page
    rates = shop.rates()
    # then November stays at 1%, December will be 2%, not yet fixed
    assert (rates["baseAccumRate"], rates["nextMonth"], rates["nextMonthRate"], rates["nextMonthFixed"]) == (
        "1", f"{year}-12", "2", "N")
    # when it asks for 3% on 27 November, December being fixed since the 26th
    _move_clock_to(sandbox_clock, datetime(year, 11, 27, 9, 0, tzinfo=KST))
    assert f"{year + 1}년 01월부터" in shop.request_rate_in_partner_center("3")
    rates = shop.rates()
    # then December keeps 2% and 3% applies from 1 January
    assert (rates["nextMonthRate"], rates["nextMonthFixed"]) == ("2", "Y")
    assert [h["effectiveFrom"] for h in rates["history"]] == [f"{year}-12-01", f"{year + 1}-01-01"]
    # and the partner center lists both requests in business time, as the shop's 적립률 변경 이력 does
    _browser, _url, center = shop.partner_center()
    # (the clock is set a moment before the minute asked: 09:00 reads 08:59); 08:59 on the 27th in Seoul is the 26th
    # in UTC
    assert re.search(rf"{year}-11-20 1[12]:[05]\d", center) and re.search(rf"{year}-11-27 0[89]:[05]\d", center)
    assert "+00:00" not in center and f"{year}-11-26" not in center
    _move_clock_to(sandbox_clock, datetime(year + 1, 1, 1, 0, 5, tzinfo=KST))
    assert shop.rates()["baseAccumRate"] == "3"


def test_an_edit_of_the_choice_while_its_approval_commits_never_reopens_the_used_reqtxid(sandbox, shop):
    """Two tabs of one buyer: 결제하기 in one approves the reqTxId while 적립/사용 in the other reopens the popup on it.
    The popup's edit waits for the approval's row lock and sees the choice used: it opens a new reqTxId and never
    writes the used one back to 'open' (where a second 확인 would hold the buyer's mileage again)."""
    import threading

    import psycopg

    url = sandbox.env["SANDBOX_DATABASE_URL"]
    if not url.startswith("postgres"):
        pytest.skip("the provider's row locks are PostgreSQL's")
    choice = shop.choose(shop.sandbox.new_buyer(15_500), 500, 5_000)
    first = choice["reqTxId"]
    stamp = int(time.time())
    edit = (f"{shop.base}/service/v2/accumulation/{shop.api_id}?" + urlencode({
        "doneUrl": DONE_URL, "maxUseAmount": 5_000, "Ncisy": "", "reqTxId": first,
        "sig": wire.popup_signature(shop.hash_key, stamp, DONE_URL), "timestamp": stamp}))
    answers = []
    with psycopg.connect(url) as approval:  # the approval, as the provider's approve() takes the choice: locked, used
        approval.execute("UPDATE sandbox_popupsession SET state = 'used' WHERE req_tx_id = %s", (first,))
        reopen = threading.Thread(target=lambda: answers.append(requests.get(edit, allow_redirects=False, timeout=30)))
        reopen.start()
        time.sleep(1.0)
        approval.commit()
    reopen.join()
    with psycopg.connect(url) as db:
        state = db.execute("SELECT state FROM sandbox_popupsession WHERE req_tx_id = %s", (first,)).fetchone()[0]
    assert state == "used"
    assert answers and answers[0].status_code == 302 and first not in answers[0].headers["Location"]


def test_given_a_buyer_at_500000_who_uses_1000_then_the_order_earns_nothing_as_the_popup_said(sandbox):
    # given a merchant whose popup holds the use until the approval, and a buyer holding exactly 500,000원
    shop = Shop(sandbox, sandbox.new_merchant(rate="1", profile="extended"))
    buyer = sandbox.new_buyer(500_000)
    # when the buyer uses 1,000원 in the popup (which says this order only uses, E4) and the order is approved
    choice = shop.choose(buyer, 1_000, 5_000)
    answer = shop.approve(choice, order_amount=10_000, amount=9_000, confirmed=True)
    # then it earns nothing: the holding before this order's use is at the cap, as the popup measured it
    assert answer["baseAccumAmount"] == 0
    assert sandbox.balance(buyer)["available"] + sandbox.balance(buyer)["pending"] == 499_000


def test_given_a_buyer_at_500000_with_a_use_held_by_another_popup_then_an_order_earns_nothing(sandbox):
    # given a buyer holding 500,000원, 1,000원 of it held by another shop window's open choice (not yet approved)
    shop = Shop(sandbox, sandbox.new_merchant(rate="1", profile="extended"))
    buyer = sandbox.new_buyer(500_000)
    shop.choose(buyer, 1_000, 5_000)
    # when another order with no use is approved
    answer = shop.approve(shop.choose(buyer, 0, 5_000), order_amount=10_000, amount=10_000, confirmed=True)
    # then it earns nothing: a held use is still the buyer's, as the popup counts it
    assert answer["baseAccumAmount"] == 0

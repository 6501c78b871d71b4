"""Runs the PortOne emulator (portone_emulator) as a real separate process on a free loopback port, test controls
on, so that the tests drive the real `portone-server-sdk` over HTTP."""

import base64
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from .sandbox_process import ROOT, free_port, stop_process

API_SECRET = "emulator-secret-for-tests"
STORE_ID = "store-test-0001"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"portone-webhook-secret-for-tests").decode()


@dataclass
class PortOneEmulator:
    base_url: str
    process: subprocess.Popen

    @classmethod
    def start(cls) -> "PortOneEmulator":
        port = free_port()
        env = {**os.environ, "PORTONE_EMULATOR_TEST_CONTROLS": "1", "PORTONE_EMULATOR_API_SECRET": API_SECRET,
               "PORTONE_EMULATOR_STORE_ID": STORE_ID, "PORTONE_EMULATOR_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "portone_emulator.app:application", "--bind",
             f"127.0.0.1:{port}", "--workers", "1", "--threads", "8", "--log-level", "warning"],
            env=env, cwd=ROOT)
        running = cls(f"http://127.0.0.1:{port}", process)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.post(f"{running.base_url}/_test/reset", json={}, timeout=1)
                return running
            except requests.ConnectionError:
                time.sleep(0.1)
        stop_process(process)
        raise RuntimeError("the PortOne emulator did not start")

    def stop(self) -> None:
        stop_process(self.process)

    def control(self, path: str, **body) -> dict:
        answer = requests.post(f"{self.base_url}/_test/{path}", json=body, timeout=5)
        answer.raise_for_status()
        return answer.json()

    def authenticate(self, payment_id: str, amount_won: int, pay_method: str = "CARD") -> requests.Response:
        """What the buyer does in the payment window: authenticate the payment (nothing is charged yet)."""
        return requests.post(f"{self.base_url}/window/payments/{payment_id}",
                             json={"totalAmount": amount_won, "currency": "KRW", "orderName": "주문",
                                   "payMethod": pay_method}, timeout=5)

    def webhook(self, payment_id: str, kind: str = "Transaction.Paid") -> dict:
        return self.control(f"payments/{payment_id}/webhook", type=kind)


def authorised(portone: PortOneEmulator, amount_won: int, *, pre_register=True,
               pay_method: str = "CARD") -> tuple[str, str]:
    """A payment the buyer authenticated in the window (after the server pre-registered its amount, through the
    gateway the settings choose): its id and token, as the browser SDK hands them back."""
    from portal.orders.gateway import get_gateway

    payment_id = f"pay-{uuid.uuid4().hex[:16]}"
    if pre_register:
        get_gateway().prepare(payment_id=payment_id, amount_won=amount_won)
    answer = portone.authenticate(payment_id, amount_won, pay_method)
    assert answer.status_code == 200, answer.text
    return payment_id, answer.json()["paymentToken"]


def window_opened(client, form: dict) -> dict:
    """결제하기 on the order form (PortOne): what the server answers the page for `PortOne.requestPayment` (the
    payment id it made and the amount it pre-registered)."""
    answer = client.post("/shop/order/payment-window/", form)
    assert answer.status_code == 200 and answer.json()["ok"], answer.content.decode()
    return answer.json()["request"]


def paid_in_window(portone: PortOneEmulator, client, form: dict) -> tuple[str, str]:
    """결제하기, then the buyer authenticates in the window for the amount the server pre-registered: the paymentId
    and paymentToken the browser SDK hands back to the page."""
    request = window_opened(client, form)
    answer = portone.authenticate(request["paymentId"], request["totalAmount"], request["payMethod"])
    assert answer.status_code == 200, answer.text
    return request["paymentId"], answer.json()["paymentToken"]

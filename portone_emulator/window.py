"""The emulator's payment window: what PortOne's browser script does, for development and the browser tests.

- GET /v2/browser-sdk.js — a stand-in for PortOne's own script (the one `@portone/browser-sdk` loads from PortOne's
  CDN): it sets `window.PortOne.requestPayment`, which lays the window over the page (an iframe on this emulator)
  and resolves with what the window answers, as PortOne's does: `{transactionType, paymentId, txId, paymentToken}`
  once the buyer authenticated, `{..., code, message, pgCode}` when they cancelled or the window refused.
- GET /window?paymentId=…&totalAmount=…&orderName=…&parent=<origin> — the window page: the amount and order name,
  the card companies, 결제하기 / 취소. 결제하기 authenticates through POST /window/payments/{id} (app.window), which
  refuses an amount other than the pre-registered one; nothing is charged until the shop confirms.
"""

import html
import os
from pathlib import Path
from urllib.parse import parse_qs

# The window's Korean font (NanumSquare, OFL): read from the repository's static/fonts/ (a file, not an import of
# the portal), or from PORTONE_EMULATOR_FONT_DIR.
FONT_DIR = Path(os.environ.get("PORTONE_EMULATOR_FONT_DIR", Path(__file__).resolve().parents[1] / "static" / "fonts"))
FONTS = {"/window/fonts/NanumSquareR.ttf": "NanumSquareR.ttf", "/window/fonts/NanumSquareB.ttf": "NanumSquareB.ttf"}

SDK_JS = r"""// PortOne emulator: stand-in for https://cdn.portone.io/v2/browser-sdk.js (NOT PortOne).
(function () {
  "use strict";
  var origin = new URL(document.currentScript.src).origin;
  function requestPayment(request) {
    return new Promise(function (resolve) {
      var params = new URLSearchParams({
        paymentId: request.paymentId || "", storeId: request.storeId || "", channelKey: request.channelKey || "",
        orderName: request.orderName || "", totalAmount: String(request.totalAmount), currency: request.currency || "KRW",
        payMethod: request.payMethod || "CARD", parent: window.location.origin,
        dueDate: (request.virtualAccount && request.virtualAccount.accountExpiry &&
                  request.virtualAccount.accountExpiry.dueDate) || ""
      });
      var overlay = document.createElement("div");
      overlay.id = "portone-window";
      var s = overlay.style;
      s.position = "fixed"; s.inset = "0"; s.zIndex = "2147483647"; s.background = "rgba(0,0,0,.55)";
      s.display = "flex"; s.alignItems = "center"; s.justifyContent = "center";
      var frame = document.createElement("iframe");
      frame.src = origin + "/window?" + params.toString();
      frame.title = "결제창";
      frame.name = "portone-window";
      var f = frame.style;
      f.width = "440px"; f.maxWidth = "100vw"; f.height = "680px"; f.maxHeight = "100vh"; f.border = "0";
      f.borderRadius = "12px"; f.background = "#fff"; f.boxShadow = "0 12px 40px rgba(0,0,0,.35)";
      if (window.innerWidth <= 480) {  // a phone: the window takes the whole screen, as PortOne's mobile window does
        f.width = "100vw"; f.height = "100%"; f.borderRadius = "0"; f.boxShadow = "none";
      }
      overlay.appendChild(frame);
      document.body.appendChild(overlay);
      function onMessage(event) {
        if (event.origin !== origin || event.source !== frame.contentWindow || !event.data ||
            event.data.type !== "portone-window" || event.data.result.paymentId !== request.paymentId) return;
        window.removeEventListener("message", onMessage);
        overlay.remove();
        resolve(Object.assign({transactionType: "PAYMENT"}, event.data.result));
      }
      window.addEventListener("message", onMessage);
    });
  }
  window.PortOne = {requestPayment: requestPayment};
})();
"""

CARDS = ["신한카드", "삼성카드", "현대카드", "KB국민카드", "롯데카드", "하나카드", "우리카드", "BC카드", "NH농협카드"]
METHODS = {"CARD": "신용카드", "TRANSFER": "실시간 계좌이체", "MOBILE": "휴대폰 소액결제", "VIRTUAL_ACCOUNT": "가상계좌"}
# the banks the window issues a 가상계좌 at (PortOne's bank codes)
BANKS = {"SHINHAN": "신한은행", "KOOKMIN": "KB국민은행", "WOORI": "우리은행", "HANA": "하나은행", "NONGHYUP": "NH농협은행",
         "IBK": "기업은행"}

PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>결제창 · PortOne 에뮬레이터</title>
<style>
@font-face{font-family:"NanumSquare";src:url("/window/fonts/NanumSquareR.ttf") format("truetype");font-weight:400}
@font-face{font-family:"NanumSquare";src:url("/window/fonts/NanumSquareB.ttf") format("truetype");font-weight:700}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 "NanumSquare","Apple SD Gothic Neo","Malgun Gothic",sans-serif;
color:#191f28;background:#fff}header{display:flex;align-items:center;justify-content:space-between;padding:14px 20px;
background:#0f1b3d;color:#fff}header b{font-size:16px;letter-spacing:-.3px}header .badge{font-size:11px;
background:#ff5a4e;border-radius:4px;padding:2px 6px;margin-left:6px;font-weight:700}header .secure{font-size:12px;
opacity:.85}.summary{padding:18px 20px;background:#f4f6fa;border-bottom:1px solid #e5e8eb}.summary dl{margin:0;
display:grid;grid-template-columns:80px 1fr;row-gap:6px}.summary dt{color:#6b7684}.summary dd{margin:0;
font-weight:600}.amount{font-size:24px;font-weight:800;color:#1b64da}.amount small{font-size:15px}
main{padding:16px 20px}h2{font-size:14px;margin:0 0 10px}.tabs{display:flex;gap:6px;margin-bottom:14px}
.tabs span{flex:1;text-align:center;padding:8px 0;border:1px solid #d1d6db;border-radius:6px;color:#6b7684}
.tabs span.on{border-color:#1b64da;color:#1b64da;font-weight:700;background:#eef4ff}.cards{display:grid;
grid-template-columns:repeat(3,1fr);gap:6px;margin-bottom:14px}.cards label{border:1px solid #d1d6db;border-radius:6px;
padding:9px 0;text-align:center;cursor:pointer;font-size:13px}.cards input{position:absolute;opacity:0}
.cards label:has(input:checked){border-color:#1b64da;background:#eef4ff;color:#1b64da;font-weight:700}
select{width:100%;padding:8px;border:1px solid #d1d6db;border-radius:6px;margin-bottom:14px;font:inherit}
.agree{display:flex;gap:8px;align-items:flex-start;font-size:13px;color:#4e5968;padding:10px;background:#f9fafb;
border-radius:6px}.error{color:#e42939;font-size:13px;min-height:20px;margin:8px 0 0}footer{display:flex;gap:8px;
padding:12px 20px 18px}footer button{flex:1;padding:13px 0;border:0;border-radius:8px;font:inherit;font-size:16px;
font-weight:700;cursor:pointer}#cancel{background:#e5e8eb;color:#4e5968}#pay{background:#1b64da;color:#fff;flex:2}
#pay:disabled{background:#90b8f0}
@media (max-width:400px){.tabs span{font-size:12px;letter-spacing:-.3px}header,.summary,main,footer{padding-left:16px;
padding-right:16px}}.note{font-size:11px;color:#8b95a1;text-align:center;margin:0 0 12px}
</style></head><body>
<header><div><b>PortOne</b><span class="badge">TEST</span></div><div class="secure">안전결제</div></header>
<section class="summary"><dl>
<dt>상점</dt><dd>__STORE__</dd>
<dt>상품명</dt><dd id="order-name">__ORDER_NAME__</dd>
<dt>결제금액</dt><dd class="amount" id="amount">__AMOUNT__<small>원</small></dd>
</dl></section>
<main>
<h2>결제수단</h2>
<div class="tabs">__TABS__</div>
__CARDS__
<label class="agree"><input type="checkbox" id="agree" checked> <span>[필수] 전자금융거래 이용약관, 개인정보 수집 및 이용,
개인정보 제3자 제공에 모두 동의합니다.</span></label>
<p class="error" id="error" role="alert"></p>
</main>
<footer><button type="button" id="cancel">취소</button><button type="button" id="pay">결제하기</button></footer>
<p class="note">PortOne 에뮬레이터 — 실제 결제가 이루어지지 않습니다.</p>
<script>
(function () {
  "use strict";
  var q = new URLSearchParams(location.search), parent = q.get("parent") || "*", paymentId = q.get("paymentId");
  function answer(result) {
    result.paymentId = paymentId;
    window.parent.postMessage({type: "portone-window", result: result}, parent);
  }
  document.getElementById("cancel").addEventListener("click", function () {
    answer({code: "FAILURE_TYPE_PG", pgCode: "USER_CANCEL", message: "사용자가 결제를 취소하였습니다."});
  });
  document.getElementById("pay").addEventListener("click", function () {
    var error = document.getElementById("error"), pay = this;
    if (!document.getElementById("agree").checked) { error.textContent = "약관에 동의해 주세요."; return; }
    pay.disabled = true; pay.textContent = "결제 진행 중…";
    fetch("/window/payments/" + encodeURIComponent(paymentId), {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({totalAmount: Number(q.get("totalAmount")), currency: q.get("currency") || "KRW",
                            orderName: q.get("orderName") || "", payMethod: q.get("payMethod") || "CARD",
                            dueDate: q.get("dueDate") || "",
                            bank: (document.getElementById("bank") || {}).value || ""})})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (r) {
        if (r.ok) answer({txId: r.body.txId, paymentToken: r.body.paymentToken});
        else answer({code: "FAILURE_TYPE_PG", pgCode: r.body.type, message: r.body.message});
      }, function () {
        pay.disabled = false; pay.textContent = "결제하기"; error.textContent = "결제 서버에 연결하지 못했습니다.";
      });
  });
})();
</script>
</body></html>
"""


def _page(query: dict[str, str], store_id: str) -> str:
    try:
        amount = f"{int(query.get('totalAmount', '0')):,}"
    except ValueError:
        amount = "0"
    method = query.get("payMethod", "CARD")
    tabs = "".join(f'<span class="{"on" if key == method else ""}">{label}</span>' for key, label in METHODS.items())
    cards = ""
    if method == "CARD":
        cards = ('<h2>카드사 선택</h2><div class="cards">' + "".join(
            f'<label><input type="radio" name="card" value="{i}"{" checked" if i == 0 else ""}>{name}</label>'
            for i, name in enumerate(CARDS)) + '</div><select aria-label="할부"><option>일시불</option>'
            '<option>2개월</option><option>3개월</option></select>')
    elif method == "VIRTUAL_ACCOUNT":
        cards = ('<h2>입금하실 은행</h2><select id="bank" aria-label="입금 은행">' + "".join(
            f'<option value="{code}">{name}</option>' for code, name in BANKS.items()) + '</select>'
            '<p class="note" id="vbank-note">결제하기를 누르면 이 결제에만 쓰이는 가상계좌가 발급됩니다.</p>')
    return (PAGE.replace("__STORE__", html.escape(store_id))
            .replace("__ORDER_NAME__", html.escape(query.get("orderName", "")))
            .replace("__AMOUNT__", amount).replace("__TABS__", tabs).replace("__CARDS__", cards))


def serve(method: str, path: str, query_string: str, store_id: str):
    """(status, content type, body bytes) for the window's own routes, or None for another route."""
    if method != "GET":
        return None
    if path == "/v2/browser-sdk.js":
        return 200, "text/javascript; charset=utf-8", SDK_JS.encode()
    if path in FONTS and (FONT_DIR / FONTS[path]).is_file():
        return 200, "font/ttf", (FONT_DIR / FONTS[path]).read_bytes()
    if path == "/window":
        query = {k: v[0] for k, v in parse_qs(query_string).items()}
        return 200, "text/html; charset=utf-8", _page(query, store_id).encode()
    return None


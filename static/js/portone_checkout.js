// The order form with the PortOne gateway: 결제하기 for a card, 계좌이체 or 휴대폰 payment asks the server to check the
// form and pre-register the payable amount, opens PortOne's payment window through the vendored @portone/browser-sdk
// (its script URL set from PORTONE_BROWSER_SDK_URL), and posts the window's paymentId and paymentToken with the form;
// the server then asks the mileage approval and confirms the payment (a 가상계좌, issued in the window, is read back
// and waits for its deposit). A cancelled or refused window leaves the form as it was, with a message. 무통장입금
// (and the TEST gateway, which loads no script) posts the form as before; so does an order the mileage and 적립금
// pay in whole (the server answers nothing_to_pay: no window opens for 0원).
(function () {
  "use strict";
  var form = document.getElementById("order-form");
  if (!form || !form.dataset.windowUrl) return;
  var box = document.getElementById("payment-window-message");
  var busy = false;

  function say(text) {
    box.textContent = text;
    box.hidden = false;  // beside 결제하기, where the buyer is looking
  }
  function method() {
    var checked = form.querySelector("input[name=payment_method]:checked");
    return checked ? checked.value : "";
  }
  function portone() {
    return import(form.dataset.portoneVendor).then(function (sdk) {
      sdk.__INTERNAL__setPortOneSdkUrl(form.dataset.portoneSdk);
      return sdk;
    });
  }
  function failed(response) {
    var cancelled = response && (response.pgCode === "USER_CANCEL" || /취소/.test(response.message || ""));
    say(cancelled ? form.dataset.msgCancelled
                  : form.dataset.msgFailed.replace("{reason}", (response && response.message) || ""));
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.windowMethods.split(" ").indexOf(method()) < 0) return;
    event.preventDefault();
    if (busy) return;  // pressed twice: one window, one order
    busy = true;
    box.hidden = true;
    form.elements.payment_id.value = "";
    form.elements.payment_token.value = "";
    fetch(form.dataset.windowUrl, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
      .then(function (answer) {
        if (!answer.ok) {
          // the form's own errors, shown by the server; or nothing to pay (0원): placed without a window
          if (answer.submit) { form.submit(); return; }
          busy = false;
          say(answer.message);
          return;
        }
        return portone().then(function (sdk) { return sdk.requestPayment(answer.request); })
          .then(function (response) {
            // a 가상계좌 is issued without a token to confirm: the server reads the account back at PortOne
            var issued = method() === form.dataset.virtualAccountMethod;
            if (!response || response.code !== undefined || (!response.paymentToken && !issued)) {
              busy = false;
              failed(response);
              return;
            }
            form.elements.payment_id.value = response.paymentId;
            form.elements.payment_token.value = response.paymentToken || "";
            form.submit();
          });
      })
      .catch(function () {
        busy = false;
        say(form.dataset.msgDown);
      });
  });
})();

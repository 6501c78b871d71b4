// The order form's fields that belong to some payment methods only (data-methods="bank vbank"): the 입금자명 with
// 무통장입금, the TEST gateway's card number with 신용카드, the 가상계좌 note, the 현금영수증 fields with a cash-like
// method. Shown only while one of their methods is chosen; without the script they are simply visible, and the
// server ignores them for other methods.
(function () {
  "use strict";
  var form = document.getElementById("order-form");
  if (!form) return;
  var parts = Array.prototype.slice.call(form.querySelectorAll("[data-methods]"));
  if (!parts.length) return;
  function update() {
    var chosen = form.querySelector("input[name=payment_method]:checked");
    parts.forEach(function (part) {
      part.hidden = !(chosen && part.dataset.methods.split(" ").indexOf(chosen.value) !== -1);
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "payment_method") update();
  });
  update();
})();

// The order form's 현금영수증 fields: shown only while a cash-like payment method is chosen (without the script they
// are simply visible, and the server ignores them for other methods).
(function () {
  "use strict";
  var box = document.getElementById("cash-receipt");
  var form = document.getElementById("order-form");
  if (!box || !form) return;
  var methods = (box.dataset.methods || "").split(" ");
  function update() {
    var chosen = form.querySelector("input[name=payment_method]:checked");
    box.hidden = !(chosen && methods.indexOf(chosen.value) !== -1);
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "payment_method") update();
  });
  update();
})();

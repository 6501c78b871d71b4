// A refund's form (배송전 취소, 상품반송): the lines under its amounts (총 환불액, 배송비적용, 카드취소/현금환불액, 적립금
// 반환액, 네이버 마일리지 반환액) follow what is typed; the server wrote them first and checks them again.
(function () {
  "use strict";
  var summary = document.getElementById("refund-summary");
  if (!summary) return;
  var form = summary.closest("form");
  var money = summary.dataset.money || "%(amount)s원";
  var amount = function (name) {
    var field = form.elements[name];
    var text = field ? field.value.trim() : "";
    if (!/^[0-9]{1,3}(,[0-9]{3})*$|^[0-9]+$/.test(text)) return 0;  // as the server reads it; its error says why
    return parseInt(text.replace(/,/g, ""), 10);
  };
  var won = function (value) { return money.replace("%(amount)s", value.toLocaleString("ko-KR")); };
  var update = function () {
    var cash = amount("cash_won"), points = amount("store_points_won");
    var shipping = amount("shipping_deduction_won"), mileage = amount("mileage_won");
    var values = {total: won(cash + points), shipping: shipping ? "-" + won(shipping) : won(0),
                  payout: won(Math.max(0, cash - shipping)), points: won(points), mileage: won(mileage)};
    if (summary.dataset.charged !== undefined) {  // a whole cancel: what of the charge would not go back
      var kept = Math.max(0, parseInt(summary.dataset.charged, 10) - cash);
      document.getElementById("refund-kept-won").textContent = won(kept);
      ["refund-kept", "refund-kept-note"].forEach(function (id) {
        var row = document.getElementById(id);
        if (row) row.hidden = kept === 0;
      });
    }
    Object.keys(values).forEach(function (key) {
      var cell = summary.querySelector('[data-sum="' + key + '"]');
      if (cell) cell.textContent = values[key];
    });
  };
  form.addEventListener("input", update);
  form.addEventListener("reset", function () { setTimeout(update, 0); });
  // what was typed before this script ran (a slow page, a form the browser restored) counts too; the server's
  // own lines stand for what it rendered
  var typed = Array.prototype.some.call(form.elements, function (field) {
    return field.type === "text" && field.value !== field.defaultValue;
  });
  if (typed) update();
})();

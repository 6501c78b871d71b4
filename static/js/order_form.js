// The order form (주문서작성): 적립/사용 opens the provider's popup; its done page posts the verified choice back and
// the mileage row and the amounts are refreshed from the server without losing what the buyer typed.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("#mileage-button");
    if (!button) return;
    event.preventDefault();
    window.open(button.href, button.target || "naver_mileage", button.dataset.popupFeatures || "width=560,height=760");
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || !event.data || event.data.type !== "mileage-choice") return;
    fetch(window.location.pathname, {credentials: "same-origin"}).then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["mileage-row", "quote"].forEach(function (id) {
          var node = fresh.getElementById(id);
          if (node) document.getElementById(id).replaceWith(node);
        });
      });
  });
})();

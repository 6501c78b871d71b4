// The order form (주문서작성), kept out of the page so that the Content-Security-Policy allows no inline script.
// 적립/사용 opens the provider's popup in a small window; the popup's done page tells us a verified choice was
// stored, and we refresh the mileage row and the amounts from the server without losing what the buyer typed.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-popup-features]");
    if (!link) return;
    event.preventDefault();
    window.open(link.href, link.target || "naver_mileage", link.dataset.popupFeatures);
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

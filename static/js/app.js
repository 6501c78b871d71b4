// Small behaviours shared by every page (no inline scripts: the pages run under script-src 'self').
(function () {
  "use strict";
  // The language switch submits on change; its button stays for those without scripts.
  document.querySelectorAll(".js-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll(".js-hide-when-scripted").forEach(function (node) { node.classList.add("d-none"); });
  // A "select all" checkbox in a table heading ticks the rows' boxes of the same name.
  document.querySelectorAll("#select-all").forEach(function (all) {
    all.addEventListener("change", function () {
      all.closest("table").querySelectorAll("tbody input[type=checkbox]").forEach(function (box) { box.checked = all.checked; });
    });
  });
  // A link shown and named as one of the manual's buttons (role="button": 적립/사용, 주문취소, 상품반송, 상품교환) is
  // pressed with the space bar too, as a button is (Enter already follows it).
  document.addEventListener("keydown", function (event) {
    var link = event.target.closest && event.target.closest("a[role=button]");
    if (link && (event.key === " " || event.key === "Spacebar")) { event.preventDefault(); link.click(); }
  });
  // A table wider than the screen scrolls sideways: its box takes the keyboard focus, so it scrolls without a mouse.
  document.querySelectorAll(".table-container").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      var heading = box.closest("section") && box.closest("section").querySelector("h2");
      box.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
    }
  });
})();

// The order form (주문서작성): 적립/사용 opens the provider's popup; its done page posts the verified choice back and
// the mileage row and the amounts are refreshed from the server without losing what the buyer typed.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("#mileage-button");
    if (!button) return;
    event.preventDefault();
    var popup = window.open(button.href, button.target || "naver_mileage",
                            button.dataset.popupFeatures || "width=560,height=760");
    // reopening releases the earlier choice at the provider: however the window ends (closed by hand included),
    // the form then shows what the server holds
    if (popup) {
      var watch = setInterval(function () {
        if (popup.closed) { clearInterval(watch); refresh(); }
      }, 700);
    }
  });
  // The amounts and the mileage row, priced by the server with what the form holds now (적립금 typed, the earn
  // choice): the popup's offer follows, so 적립/사용 never offers what the 적립금 already pays.
  var form = document.getElementById("order-form");
  // Several refreshes can be in flight (typing, the popup's message, its window closing): only the answer to the
  // latest request is applied, and a note that the choice was dropped stays until a new choice is shown (the
  // server says it once, when it drops the choice; a later answer with no choice must not wipe it).
  var sent = 0, inFlight = 0, saidNote = null;
  var refresh = function () {
    if (!form || !form.dataset.quoteUrl) return Promise.resolve();
    var number = ++sent;
    inFlight += 1;
    return fetch(form.dataset.quoteUrl, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (r) { return r.status === 200 ? r.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshNote = fresh.getElementById("mileage-dropped"), choice = fresh.getElementById("mileage-choice");
        // the server says a dropped choice once, in the answer to the request that dropped it: kept even when a
        // later request overtook that answer, until a new choice is shown
        if (freshNote) saidNote = freshNote;
        if (choice) saidNote = null;
        if (number !== sent) return;
        var note = document.getElementById("mileage-dropped") || saidNote;
        var row = fresh.getElementById("mileage-row");
        if (note && row && !freshNote && !choice) {
          // the kept note's "최대 N원" follows the amounts this answer was worked out for
          if (note.dataset.maxUse && row.dataset.maxUse && note.dataset.maxUse !== row.dataset.maxUse) {
            note.textContent = note.textContent.replace(note.dataset.maxUse, row.dataset.maxUse);
            note.dataset.maxUse = row.dataset.maxUse;
          }
          row.insertBefore(note, row.querySelector("details"));
        }
        // the element that had the focus (적립/사용, typically) keeps it in the new row, found by its id
        var focused = document.activeElement, focusedId = "";
        ["mileage-row", "quote", "points-note"].forEach(function (id) {
          var node = fresh.getElementById(id), old = document.getElementById(id);
          if (!node || !old) return;
          if (focused && old.contains(focused)) focusedId = focused.id || "mileage-button";
          old.replaceWith(node);
        });
        var again = focusedId && document.getElementById(focusedId);
        if (again) again.focus();
      })
      .catch(function () {})
      .then(function () { inFlight -= 1; });
  };
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || !event.data || event.data.type !== "mileage-choice") return;
    refresh();
  });
  var timer = null;
  document.addEventListener("input", function (event) {
    if (!event.target.matches("#id_store_points")) return;
    clearTimeout(timer);
    timer = setTimeout(function () { timer = null; refresh(); }, 300);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("#id_store_points, input[name=earn_choice]")) refresh();
  });
  // 결제하기 (or Enter) while the amounts are still following what was typed: the page first shows the amounts
  // the payment will have, then goes on (the server refuses a payment whose page showed other amounts). Registered
  // before the PortOne window's handler, which then runs on the resubmission.
  if (form) {
    form.addEventListener("submit", function (event) {
      if (timer === null && inFlight === 0) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      clearTimeout(timer);
      timer = null;
      var submitter = event.submitter;
      refresh().then(function () {
        if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
      });
    });
  }
})();

// 배송지 정보가 주문자 정보와 동일합니까?: ticked, the recipient's name and phone are the orderer's, shown read-only
// and following what is typed above; unticked, the buyer types them (the server refuses a ticked box beside a
// different recipient, so nothing typed is ever replaced unseen).
(function () {
  "use strict";
  var same = document.getElementById("id_same_as_orderer");
  if (!same) return;
  var pairs = [["id_orderer_name", "id_recipient_name"], ["id_orderer_phone", "id_recipient_phone"]];
  var sync = function () {
    pairs.forEach(function (pair) {
      var from = document.getElementById(pair[0]), to = document.getElementById(pair[1]);
      if (!from || !to) return;
      to.readOnly = same.checked;
      if (same.checked) to.value = from.value;
    });
  };
  same.addEventListener("change", sync);
  pairs.forEach(function (pair) {
    var from = document.getElementById(pair[0]);
    if (from) from.addEventListener("input", sync);
  });
  // a page shown again with another recipient typed beside the ticked box keeps what was typed, editable, until
  // the buyer says which is meant (the box's own error asks)
  var same_as = function (a, b, phone) {
    return phone ? a.replace(/\D/g, "") === b.replace(/\D/g, "") : a.trim() === b.trim();
  };
  var typedOther = pairs.some(function (pair, i) {
    var from = document.getElementById(pair[0]), to = document.getElementById(pair[1]);
    return from && to && to.value.trim() !== "" && !same_as(to.value, from.value, i === 1);
  });
  if (!typedOther) sync();
})();

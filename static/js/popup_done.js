// The popup's done page: hand the verified choice to the order form that opened it, then close (no inline script).
// After 취소 the window closes too and the order form, which keeps what was typed, shows the mileage row as it now
// stands; after a refusal the reason stays on screen and 주문서로 돌아가기 closes the window instead of loading a
// second order form inside it.
(function () {
  "use strict";
  if (!window.opener) return;
  var refresh = function () {
    window.opener.postMessage({type: "mileage-choice", useWon: 0, reqTxId: ""}, window.location.origin);
  };
  var node = document.getElementById("mileage-choice-message");
  if (node) {
    window.opener.postMessage({type: "mileage-choice", useWon: Number(node.dataset.useWon),
                               reqTxId: node.dataset.reqTxId}, window.location.origin);
    window.close();
    return;
  }
  refresh();  // the choice may have been dropped: the form shows what the server now holds
  if (document.getElementById("mileage-cancel-message")) {
    window.opener.focus();
    window.close();
    return;
  }
  var back = document.getElementById("back-to-order");
  if (back) {
    back.addEventListener("click", function (event) {
      event.preventDefault();
      window.opener.focus();
      window.close();
    });
  }
})();

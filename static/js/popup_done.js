// The popup's done page: hand the verified choice to the order form that opened it, then close (no inline script).
// After 취소 the window closes too and the buyer is back on the order form, which keeps what was typed.
(function () {
  "use strict";
  if (!window.opener) return;
  var node = document.getElementById("mileage-choice-message");
  if (node) {
    window.opener.postMessage({type: "mileage-choice", useWon: Number(node.dataset.useWon),
                               reqTxId: node.dataset.reqTxId}, window.location.origin);
    window.close();
  } else if (document.getElementById("mileage-cancel-message")) {
    window.opener.focus();
    window.close();
  }
})();

// The popup's done page: hand the verified choice to the order form that opened it, then close (no inline script).
(function () {
  "use strict";
  var node = document.getElementById("mileage-choice-message");
  if (!node || !window.opener) return;
  window.opener.postMessage({type: "mileage-choice", useWon: Number(node.dataset.useWon), reqTxId: node.dataset.reqTxId},
                            window.location.origin);
  window.close();
})();

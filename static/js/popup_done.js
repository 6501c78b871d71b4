// The popup's done page: hand the verified choice to the order form (window.opener) and close.
(function () {
  "use strict";
  var done = document.getElementById("mileage-done");
  if (!done || !window.opener) return;
  window.opener.postMessage({type: "mileage-choice", useWon: Number(done.dataset.useWon),
                             reqTxId: done.dataset.reqTxId}, window.location.origin);
  window.close();
})();

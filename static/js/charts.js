// Monthly earn/use bar chart (Chart.js, vendored). Data comes from a json_script block: no inline script, CSP-safe.
(function () {
  "use strict";
  var canvas = document.getElementById("mileage-chart");
  if (!canvas || typeof Chart === "undefined") return;
  var data = JSON.parse(document.getElementById(canvas.dataset.source).textContent);
  var money = data.money || "%(amount)s원";  // the money format of the page's language
  var won = function (v) { return money.replace("%(amount)s", Number(v).toLocaleString("ko-KR")); };
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;  // the page's Korean web font
  var draw = function () { new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.months.map(function (m) { return m.slice(2).replace("-", "."); }),
      datasets: [
        {label: canvas.dataset.labelEarned, data: data.earned, backgroundColor: "#03c75a", borderRadius: 4},
        {label: canvas.dataset.labelUsed, data: data.used, backgroundColor: "#94a3b8", borderRadius: 4}
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: {legend: {position: "bottom"}, tooltip: {callbacks: {label: function (c) { return c.dataset.label + " " + won(c.parsed.y); }}}},
      scales: {y: {beginAtZero: true, ticks: {callback: function (v) { return won(v); }}}, x: {grid: {display: false}}}
    }
  }); };
  (document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve()).then(draw);
})();

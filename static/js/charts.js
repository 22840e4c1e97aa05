// Charts drawn from data the page embeds with json_script; each chart's numbers are also
// in a table on the page (its text alternative and its print fallback).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      var colours = data.kinds.map(function (kind) {
        return kind === "maturity" ? "#1565c0" : "#c62828";
      });
      new Chart(canvas, {
        type: "radar",
        data: {
          labels: data.labels,
          datasets: [
            {
              label: data.current_label,
              data: data.scores,
              borderColor: "#1b5e20",
              backgroundColor: "rgba(27, 94, 32, 0.15)",
              pointBackgroundColor: colours,
              pointStyle: data.kinds.map(function (k) { return k === "maturity" ? "circle" : "rectRot"; }),
              pointRadius: 5,
            },
          ].concat(data.previous ? [{
            label: data.previous_label,
            data: data.previous,
            borderColor: "#757575",
            borderDash: [6, 4],
            backgroundColor: "rgba(0, 0, 0, 0)",
            pointRadius: 3,
          }] : []),
        },
        options: {
          animation: false,
          scales: { r: { min: 0, max: 100, ticks: { stepSize: 20 } } },
          plugins: { legend: { position: "bottom" } },
        },
      });
    });
  });
})();

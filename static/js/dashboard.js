// The dashboard's charts, drawn with the vendored Chart.js from data the page embeds with
// json_script. Each chart has its numbers in a table beside it (its text alternative and
// its print fallback), and each is readable in black and white: series differ by line
// style and point shape, not only by colour. Charts are (re)drawn whenever htmx swaps in
// a new dashboard body.
(function () {
  "use strict";
  var INK = "#212121";

  function read(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    return source ? JSON.parse(source.textContent) : null;
  }

  // Quadrant lines at 50 and their names in the corners.
  var quadrantPlugin = {
    id: "quadrants",
    afterDraw: function (chart, _args, options) {
      var x = chart.scales.x, y = chart.scales.y, ctx = chart.ctx;
      if (!x || !y) return;
      ctx.save();
      ctx.strokeStyle = "#616161";
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(x.getPixelForValue(50), y.top);
      ctx.lineTo(x.getPixelForValue(50), y.bottom);
      ctx.moveTo(x.left, y.getPixelForValue(50));
      ctx.lineTo(x.right, y.getPixelForValue(50));
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = INK;
      ctx.font = "12px sans-serif";
      var names = options.names || [];
      // open novice (low, low), guarded novice (low, high), demanding expert (high, high),
      // strategic partner (high, low)
      ctx.textAlign = "left";
      ctx.fillText(names[0] || "", x.left + 6, y.bottom - 6);
      ctx.fillText(names[1] || "", x.left + 6, y.top + 14);
      ctx.textAlign = "right";
      ctx.fillText(names[2] || "", x.right - 6, y.top + 14);
      ctx.fillText(names[3] || "", x.right - 6, y.bottom - 6);
      ctx.restore();
    },
  };

  var builders = {
    levels: function (data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [{ label: data.label, data: data.values, backgroundColor: "#546e7a", borderColor: INK, borderWidth: 1 }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      };
    },
    scatter: function (data, canvas) {
      return {
        type: "scatter",
        data: {
          datasets: [{
            data: data.points.map(function (p) { return { x: p[0], y: p[1], client: p[2], label: p[3] }; }),
            pointRadius: 3,
            pointHoverRadius: 6,
            backgroundColor: "rgba(33, 33, 33, 0.45)",
            borderColor: INK,
            borderWidth: 0.5,
          }],
        },
        plugins: [quadrantPlugin],
        options: {
          plugins: {
            legend: { display: false },
            quadrants: { names: data.quadrants },
            tooltip: {
              callbacks: {
                label: function (item) {
                  var p = item.raw;
                  return p.label + ": " + p.x + " / " + p.y;
                },
              },
            },
          },
          scales: {
            x: { min: 0, max: 100, title: { display: true, text: data.x } },
            y: { min: 0, max: 100, title: { display: true, text: data.y } },
          },
          onClick: function (_event, elements, chart) {
            if (!elements.length) return;
            var point = chart.data.datasets[elements[0].datasetIndex].data[elements[0].index];
            window.location.href = data.url.replace("/0/", "/" + point.client + "/");
          },
          onHover: function (event, elements) {
            canvas.style.cursor = elements.length ? "pointer" : "default";
          },
        },
      };
    },
    trend: function (data) {
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            { label: data.maturity_label, data: data.maturity, borderColor: "#0d47a1", backgroundColor: "#0d47a1", pointStyle: "circle", borderWidth: 3, spanGaps: true },
            { label: data.defensiveness_label, data: data.defensiveness, borderColor: "#b71c1c", backgroundColor: "#b71c1c", borderDash: [8, 5], pointStyle: "triangle", pointRadius: 5, borderWidth: 2, spanGaps: true },
          ],
        },
        options: {
          plugins: { legend: { position: "bottom", labels: { usePointStyle: true } } },
          scales: { y: { min: 0, max: 100 } },
        },
      };
    },
  };

  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = builders[canvas.dataset.chart];
      var data = read(canvas);
      if (!build || !data) return;
      var existing = window.Chart.getChart(canvas);
      if (existing) existing.destroy();
      var config = build(data, canvas);
      config.options.animation = false;
      config.options.maintainAspectRatio = false;
      new window.Chart(canvas, config);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  // Print at the paper's width, not the screen's.
  window.addEventListener("beforeprint", function () {
    Object.values(window.Chart ? window.Chart.instances : {}).forEach(function (chart) { chart.resize(); });
  });
})();

/* The dashboard's charts: ECharts (served from this origin) over the JSON the page carries.
 * Each chart's numbers are also in the table below it; nothing is fetched. */
(function () {
  "use strict";

  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  // Periods: ECharts leaves some out where they would overlap (the table has them all).
  // Names (categories, streets, districts, rounds): every bar keeps its name, slanted and
  // cut short when there are many; the tooltip and the table give the whole name.
  var NAMED = ["categories", "streets", "districts", "rounds"];

  function xLabels(chart) {
    if (NAMED.indexOf(chart.id) < 0) { return { hideOverlap: true }; }
    var many = chart.labels.length > 5;
    return { interval: 0, rotate: many ? 35 : 0, width: many ? 84 : null, overflow: "truncate" };
  }

  function option(chart, text) {
    var percent = chart.series.some(function (s) { return s.percent; });
    var series = chart.series.map(function (s) {
      var shown = {
        name: s.name, type: s.kind === "bar" ? "bar" : "line", data: s.values,
        connectNulls: false, symbolSize: 5
      };
      // A rate's tooltip shows the server's text: rounded once, half-up, from the counts.
      if (s.texts) {
        shown.tooltip = { valueFormatter: function (v, i) { return s.texts[i]; } };
      }
      return shown;
    });
    if (chart.target !== null && series.length) {
      series[0].markLine = {
        symbol: "none", silent: true, lineStyle: { color: "#c0392b", type: "dashed" },
        label: { position: "insideEndTop", formatter: text.target + " " + pct(chart.target) },
        data: [{ yAxis: chart.target }]
      };
    }
    return {
      animation: false,
      color: ["#c0392b", "#2c7fb8", "#f39c12", "#7f8c8d"],
      tooltip: { trigger: "axis", valueFormatter: percent ? pct : undefined },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 12, top: 34, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: chart.labels, axisLabel: xLabels(chart) },
      yAxis: {
        type: "value", max: percent ? 1 : null,
        axisLabel: { formatter: percent ? function (v) { return Math.round(v * 100) + "%"; } : null }
      },
      series: series
    };
  }

  function draw() {
    var data = JSON.parse(document.getElementById("cg-dashboard-data").textContent);
    var text = JSON.parse(document.getElementById("cg-dashboard-text").textContent);
    var drawn = [];
    data.forEach(function (chart) {
      var el = document.getElementById("cg-chart-" + chart.id);
      if (!el) { return; }
      var instance = window.echarts.init(el, null, { renderer: "canvas" });
      instance.setOption(option(chart, text));
      drawn.push(instance);
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (c) { c.resize(); });
    });
    document.body.dataset.chartsDrawn = String(drawn.length);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

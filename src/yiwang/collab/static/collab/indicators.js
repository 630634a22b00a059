/* 指标与绩效考评: an indicator's trend per unit and a plan's ranking bar chart. Data from json_script blocks. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var charts = [];
  var trend = data("indicator-trend-data");
  var trendBox = document.getElementById("indicator-trend-chart");
  if (trend && trendBox) {
    var t = echarts.init(trendBox);
    t.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 48, right: 16, bottom: 32, top: 36 },
      xAxis: { type: "category", data: trend.periods },
      yAxis: { type: "value" },
      series: trend.series.map(function (s) { return { name: s.unit, type: "line", data: s.values, connectNulls: false }; })
    });
    charts.push(t);
  }
  var ranking = data("performance-bar-data");
  var bar = document.getElementById("performance-bar-chart");
  if (ranking && bar) {
    var c = echarts.init(bar);
    c.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, bottom: 110, top: 36 },
      xAxis: { type: "category", data: ranking.units, axisLabel: { rotate: 45, interval: 0 } },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [
        { name: ranking.labels.score, type: "bar", data: ranking.scores, label: { show: true, position: "top" } },
        { name: ranking.labels.governance, type: "bar", data: ranking.governance },
        { name: ranking.labels.public, type: "bar", data: ranking.public }
      ]
    });
    charts.push(c);
  }
  window.addEventListener("resize", function () { charts.forEach(function (x) { x.resize(); }); });
})();

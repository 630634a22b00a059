/* 数据质量: department scores as bars, a resource's score trend as lines. Data from the json_script blocks. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  var dept = data("quality-dept-data"), deptEl = document.getElementById("quality-dept-chart");
  var charts = [];
  if (dept && deptEl) {
    var bars = echarts.init(deptEl);
    bars.setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 48, right: 16, bottom: 80, top: 36 },
      xAxis: { type: "category", data: dept.names, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [{ name: dept.labels[0], type: "bar", data: dept.quality }, { name: dept.labels[1], type: "bar", data: dept.freshness }]
    });
    charts.push(bars);
  }
  var trend = data("quality-trend-data"), trendEl = document.getElementById("quality-trend-chart");
  if (trend && trendEl) {
    var lines = echarts.init(trendEl);
    lines.setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 48, right: 16, bottom: 40, top: 36 },
      xAxis: { type: "category", data: trend.at },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [{ name: trend.labels[0], type: "line", data: trend.quality }, { name: trend.labels[1], type: "line", data: trend.freshness }]
    });
    charts.push(lines);
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();

/* 数据治理考核: the ranking's bar chart, a department's metric bars and its trend (total and rank) over the
   periods. Data from the pages' json_script blocks. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var charts = [];
  var ranking = data("scorecard-bar-data");
  var bar = document.getElementById("scorecard-bar-chart");
  if (ranking && bar) {
    var c = echarts.init(bar);
    c.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, bottom: 110, top: 24 },
      xAxis: { type: "category", data: ranking.departments, axisLabel: { rotate: 45, interval: 0 } },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [{ name: ranking.label, type: "bar", data: ranking.totals, label: { show: true, position: "top" } }]
    });
    charts.push(c);
  }
  var dept = data("scorecard-department-data");
  var metricBox = document.getElementById("scorecard-metric-chart");
  if (dept && metricBox) {
    var m = echarts.init(metricBox);
    m.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 120, right: 24, bottom: 24, top: 16 },
      xAxis: { type: "value", min: 0, max: 100 },
      yAxis: { type: "category", data: dept.metrics, inverse: true },
      series: [{ name: dept.score_label, type: "bar", data: dept.scores }]
    });
    charts.push(m);
  }
  var trendBox = document.getElementById("scorecard-trend-chart");
  if (dept && trendBox) {
    var t = echarts.init(trendBox);
    t.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, bottom: 32, top: 36 },
      xAxis: { type: "category", data: dept.periods },
      yAxis: [
        { type: "value", min: 0, max: 100, name: dept.total_label },
        { type: "value", inverse: true, minInterval: 1, min: 1, name: dept.rank_label }
      ],
      series: [
        { name: dept.total_label, type: "line", data: dept.totals },
        { name: dept.rank_label, type: "line", yAxisIndex: 1, data: dept.ranks }
      ]
    });
    charts.push(t);
  }
  window.addEventListener("resize", function () { charts.forEach(function (x) { x.resize(); }); });
})();

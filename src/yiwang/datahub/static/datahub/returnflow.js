/* 回流: the monthly figures of a statistics resource as grouped bars. Data from the json_script block. */
(function () {
  "use strict";
  var el = document.getElementById("return-month-chart");
  var data = document.getElementById("return-chart-data");
  if (!window.echarts || !el || !data) { return; }
  var chart = JSON.parse(data.textContent);
  var bars = echarts.init(el);
  bars.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 48, right: 16, bottom: 40, top: 36 },
    xAxis: { type: "category", data: chart.months },
    yAxis: { type: "value", minInterval: 1 },
    series: chart.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; })
  });
  window.addEventListener("resize", function () { bars.resize(); });
})();

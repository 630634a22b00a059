/* 使用情况: per department, activated / daily / weekly active rates as bars. Data from the json_script block. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  var node = document.getElementById("adoption-data"), el = document.getElementById("adoption-chart");
  if (!node || !el) { return; }
  var data = JSON.parse(node.textContent);
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" }, legend: { top: 0 },
    grid: { left: 48, right: 16, bottom: 80, top: 36 },
    xAxis: { type: "category", data: data.names, axisLabel: { rotate: 30 } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { name: data.labels[0], type: "bar", data: data.activated },
      { name: data.labels[1], type: "bar", data: data.daily },
      { name: data.labels[2], type: "bar", data: data.weekly }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();

/* 一网统观: channel pie, category bars and the grid map (GeoJSON polygons, no tiles) of the operations dashboard.
   Data comes from two json_script blocks; clicking a grid opens the work list filtered by that grid. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  var chart = JSON.parse(document.getElementById("ops-chart-data").textContent);
  var geo = JSON.parse(document.getElementById("ops-map-data").textContent);
  var charts = [];

  var channelEl = document.getElementById("ops-channel-chart");
  if (channelEl) {
    var pie = echarts.init(channelEl);
    pie.setOption({
      tooltip: { trigger: "item" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "62%"], data: chart.channels.filter(function (c) { return c.value > 0; }) }]
    });
    charts.push(pie);
  }
  var categoryEl = document.getElementById("ops-category-chart");
  if (categoryEl) {
    var bars = echarts.init(categoryEl);
    bars.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 16, bottom: 72, top: 24 },
      xAxis: { type: "category", data: chart.categories.labels, axisLabel: { rotate: 30, interval: 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: chart.text.count, type: "bar", data: chart.categories.values, itemStyle: { color: "#2f6fb0" } }]
    });
    charts.push(bars);
  }

  var mapEl = document.getElementById("ops-map");
  if (mapEl && geo.features.length) {
    var byCode = {};
    geo.features.forEach(function (f) { byCode[f.properties.code] = f.properties; });
    echarts.registerMap("yiwang-ops-grids", geo);
    var map = echarts.init(mapEl);
    var palette = {
      open: ["#eef4fb", "#9cc3e8", "#2f6fb0", "#123d6a"],
      overdue: ["#fdf1ef", "#f4b3a8", "#d9482b", "#8c1d0b"],
      received: ["#f1f8ee", "#b5dca5", "#4f9d3a", "#1f5b14"]
    };
    function draw(measure) {
      var max = 0;
      var data = geo.features.map(function (f) {
        var v = f.properties[measure] || 0;
        if (v > max) { max = v; }
        return { name: f.properties.code, value: v };
      });
      map.setOption({
        tooltip: {
          trigger: "item",
          /* The tooltip is HTML: every value from data goes through yiwang.html (web/yiwang.js). */
          formatter: function (p) {
            var g = byCode[p.name];
            if (!g) { return yiwang.escapeHtml(p.name); }
            return yiwang.html`${g.grid_name}（${g.village_name}）<br>${chart.text.open}：${g.open}` +
              yiwang.html`　${chart.text.overdue}：${g.overdue}<br>${chart.text.received}：${g.received}` +
              (chart.work_url ? yiwang.html`<br><small>${chart.text.drill}</small>` : "");
          }
        },
        visualMap: { min: 0, max: Math.max(max, 1), calculable: true, left: 8, bottom: 8, inRange: { color: palette[measure] } },
        series: [{
          type: "map", map: "yiwang-ops-grids", roam: true,
          itemStyle: { borderColor: "#2f6fb0", borderWidth: 0.6 },
          emphasis: { label: { show: false }, itemStyle: { areaColor: "#f6c15b" } },
          data: data
        }]
      }, { replaceMerge: ["series"] });
    }
    draw("open");
    map.on("click", function (p) {
      if (chart.work_url && byCode[p.name]) {
        window.location.href = chart.work_url + "?grid=" + encodeURIComponent(p.name);
      }
    });
    document.querySelectorAll("button[data-colour]").forEach(function (button) {
      button.addEventListener("click", function () {
        document.querySelectorAll("button[data-colour]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
        button.setAttribute("aria-pressed", "true");
        draw(button.getAttribute("data-colour"));
      });
    });
    window.__opsMap = map; /* for the browser journey: a click on a grid by code */
    charts.push(map);
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();

/* Intake pages: the grid map location picker (ECharts geo, GeoJSON grids, no tiles), category suggestion
   buttons, Enter in search boxes, and the browser's geolocation on the patrol page. */
(function () {
  "use strict";

  function fire(el) {
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function initMap(el) {
    if (!window.echarts) { return; }
    var source = document.getElementById(el.dataset.geojson);
    var lon = document.getElementById(el.dataset.lon);
    var lat = document.getElementById(el.dataset.lat);
    if (!source || !lon || !lat) { return; }
    var geo = JSON.parse(source.textContent);
    if (!geo.features || !geo.features.length) { el.hidden = true; return; }
    var byCode = {};
    geo.features.forEach(function (f) { byCode[f.properties.code] = f.properties; });
    echarts.registerMap("yiwang-intake-grids", geo);
    var chart = echarts.init(el);
    function marker() {
      return lon.value && lat.value ? [[parseFloat(lon.value), parseFloat(lat.value)]] : [];
    }
    chart.setOption({
      tooltip: { trigger: "item" },
      geo: {
        map: "yiwang-intake-grids",
        roam: true,
        /* A geo component takes its own tooltip formatter, not the global one (which never ran here). The
           tooltip is HTML: every value from data goes through yiwang.html (web/yiwang.js). */
        tooltip: {
          show: true,
          formatter: function (p) {
            var g = byCode[p.name];
            return g ? yiwang.html`${g.grid_name}（${g.village_name}）` : yiwang.escapeHtml(p.name);
          }
        },
        itemStyle: { areaColor: "#e8f1fb", borderColor: "#2f6fb0", borderWidth: 1 },
        /* a label is canvas text, not HTML: no escaping (it would show the entities) */
        emphasis: { itemStyle: { areaColor: "#b9d4f0" }, label: { show: true, formatter: function (p) { var g = byCode[p.name]; return g ? g.grid_name : ""; } } },
        label: { show: false }
      },
      series: [{
        type: "scatter",
        coordinateSystem: "geo",
        symbol: "pin",
        symbolSize: 28,
        itemStyle: { color: "#d9342b" },
        data: marker()
      }]
    });
    chart.getZr().on("click", function (e) {
      var point = chart.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
      if (!point || !isFinite(point[0]) || !isFinite(point[1])) { return; }
      lon.value = point[0].toFixed(6);
      lat.value = point[1].toFixed(6);
      chart.setOption({ series: [{ data: marker() }] });
      fire(lon);
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.querySelectorAll("[data-grid-map]").forEach(initMap);

  // Suggestion buttons (HTMX-loaded) fill the category picker.
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-fill-category]");
    if (!button) { return; }
    var select = document.getElementById("id_category");
    if (select) { select.value = button.dataset.fillCategory; fire(select); select.focus(); }
  });

  // Enter in a lookup box runs the lookup instead of submitting the whole form.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.matches("[data-enter-lookup]")) {
      e.preventDefault();
      fire(e.target);
    }
  });

  // Patrol: refine the worker's grid by the phone's position when the browser allows it.
  var geoButton = document.querySelector("[data-geolocate]");
  if (geoButton && navigator.geolocation) {
    var status = document.getElementById(geoButton.dataset.status);
    function locate() {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var lon = document.getElementById("id_lon");
        var lat = document.getElementById("id_lat");
        lon.value = pos.coords.longitude.toFixed(6);
        lat.value = pos.coords.latitude.toFixed(6);
        if (status) { status.textContent = geoButton.dataset.done; }
        fire(lon);
      }, function () {
        if (status) { status.textContent = geoButton.dataset.failed; }
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    }
    geoButton.addEventListener("click", locate);
    locate();
  } else if (geoButton) {
    geoButton.hidden = true;
  }
})();

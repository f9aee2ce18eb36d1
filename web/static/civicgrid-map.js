/* civicgrid map layers: fetched from the server's JSON endpoints, drawn with Leaflet.
 * Text from the data is always escaped before it reaches HTML (tooltips, popups). */
(function () {
  "use strict";

  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return ESCAPES[c];
    });
  }

  /* WGS-84 → GCJ-02 (published closed form, Krasovsky ellipsoid), for AMap/Tencent basemaps. */
  var A = 6378245.0, EE = 0.00669342162296594323;
  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgsToGcj(lon, lat) {
    if (outOfChina(lon, lat)) { return [lon, lat]; }
    var dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLon = (dLon * 180) / (A / sq * Math.cos(rad) * Math.PI);
    return [lon + dLon, lat + dLat];
  }
  function coordsToLatLng(gcj02) {
    return function (c) {
      var p = gcj02 ? wgsToGcj(c[0], c[1]) : c;
      return L.latLng(p[1], p[0]);
    };
  }

  function areaTooltip(p) {
    return "<b>" + esc(p.name) + "</b><br>" + esc(p.code);
  }
  function pointTooltip(p) {
    // Problems (OGC API pages) have no name or kind: show their category and status.
    var title = p.name !== undefined ? p.name : p.category_label;
    var kind = p.kind_label !== undefined ? p.kind_label : p.status_label;
    var code = p.code !== undefined ? p.code : p.id;
    return "<b>" + esc(title) + "</b><br>" + esc(kind) + " · " + esc(code);
  }

  /* One pane per layer, in the order given, points above areas: whichever fetch
   * finishes first, the stacking (and so what the mouse hovers) stays the same. */
  function paneFor(map, spec, index) {
    var name = "cg-" + spec.id;
    if (!map.getPane(name)) {
      var onTop = spec.kind === "points" || spec.kind === "problems";
      // style.above: drawn over the later layers of its kind (listed first, drawn on top)
      var above = spec.style && spec.style.above ? 50 : 0;
      map.createPane(name).style.zIndex = String((onTop ? 500 : 400) + index + above);
    }
    return name;
  }

  /* style.cluster: a points layer clustered by leaflet.markercluster (when the page
   * links it), clusters in the layer's style.clusterColor with their count. */
  function clustered(map, spec, layer) {
    if (!spec.style || !spec.style.cluster || !L.markerClusterGroup) { return layer; }
    // markercluster needs the map's deepest zoom (a map without tiles has none: 19 as OSM)
    if (!map.options.maxZoom) { map.options.maxZoom = 19; }
    var color = spec.style.clusterColor || "#555";
    var group = L.markerClusterGroup({
      maxClusterRadius: 40,
      showCoverageOnHover: false,
      iconCreateFunction: function (cluster) {
        return L.divIcon({
          html: "<span style='background:" + color + "'>" + cluster.getChildCount() + "</span>",
          className: "cg-cluster cg-cluster-" + spec.id,
          iconSize: L.point(34, 34)
        });
      }
    });
    group.addLayer(layer);
    return group;
  }

  function buildLayer(map, spec, index, data, gcj02) {
    return clustered(map, spec, geoJsonLayer(map, spec, index, data, gcj02));
  }

  function geoJsonLayer(map, spec, index, data, gcj02) {
    var base = spec.style || {};
    var isPoints = spec.kind === "points";
    return L.geoJSON(data, {
      pane: paneFor(map, spec, index),
      coordsToLatLng: coordsToLatLng(gcj02),
      style: function (f) {
        if (!isPoints) { return base; }
        var color = f.properties.color || base.color || "#555";
        return { color: color, weight: f.properties.weight || 3, fillColor: color, fillOpacity: 0.35 };
      },
      pointToLayer: function (f, latlng) {
        var color = f.properties.color || base.color || "#555";
        // Optional per-feature radius (e.g. larger markers for unvisited points).
        var radius = f.properties.radius || 5;
        return L.circleMarker(latlng, { pane: paneFor(map, spec, index), radius: radius, color: "#fff", weight: 1, fillColor: color, fillOpacity: 0.95 });
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(isPoints ? pointTooltip(f.properties) : areaTooltip(f.properties), { sticky: true });
      }
    });
  }

  function addLegend(map, legend) {
    if (!legend || !legend.items || !legend.items.length) { return; }
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "cg-legend");
      var html = "<div class='cg-legend-title'>" + esc(legend.title) + "</div>";
      legend.items.forEach(function (item) {
        html += "<div class='cg-legend-item'><span class='cg-swatch' style='background:" +
          esc(item.color) + "'></span>" + esc(item.label) + "</div>";
      });
      div.innerHTML = html;
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(map);
  }

  /* Other scripts add layer kinds: build(map, spec, index, group, config, done) draws
   * into group and calls done(count) when loaded (done(-1, error) on failure). */
  var kinds = {};
  function registerKind(name, build) { kinds[name] = build; }

  function init(map, config) {
    window.civicgridMap.map = map;  // for tests and page scripts
    window.civicgridMap.groups = {};
    // Open on wide screens; on phones folded to its button (it covered half the map).
    var phone = window.matchMedia && window.matchMedia("(max-width: 700px)").matches;
    var control = L.control.layers(null, null, { collapsed: !!phone }).addTo(map);
    var container = map.getContainer();
    var counts = {};
    var pending = config.layers.length;
    container.dataset.layersPending = String(pending);
    addLegend(map, config.legend);
    addBasemap(map, config);
    config.layers.forEach(function (spec, index) {
      // A group per layer, added to the control now so its order is the configured one.
      var group = L.layerGroup();
      window.civicgridMap.groups[spec.id] = group;
      control.addOverlay(group, esc(spec.label));
      if (spec.show) { group.addTo(map); }
      if (kinds[spec.kind]) {
        var first = true;
        kinds[spec.kind](map, spec, index, group, config, function (count, err) {
          counts[spec.id] = err ? -1 : count;
          if (err) { showError(container, config, spec, err); }
          if (first) { first = false; pending -= 1; }
          container.dataset.layerCounts = JSON.stringify(counts);
          container.dataset.layersPending = String(pending);
        });
        return;
      }
      fetch(spec.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) { throw new Error(spec.url + " → HTTP " + r.status); }
          return r.json();
        })
        .then(function (data) {
          group.addLayer(buildLayer(map, spec, index, data, config.gcj02));
          counts[spec.id] = data.features ? data.features.length : 1;  // or one Feature
        })
        .catch(function (err) {
          counts[spec.id] = -1;
          showError(container, config, spec, err);
        })
        .then(function () {
          pending -= 1;
          container.dataset.layerCounts = JSON.stringify(counts);
          container.dataset.layersPending = String(pending);
        });
    });
  }

  /* The vector basemap (civicgrid-basemap.js), and the reason when there is none. */
  function addBasemap(map, config) {
    var container = map.getContainer();
    function notify(text) {
      // The look of a layer error (.cg-error), at the bottom so both can show.
      var note = L.DomUtil.create("div", "cg-error cg-basemap-notice", container);
      note.style.top = "auto";
      note.style.bottom = "30px";
      note.setAttribute("role", "status");
      note.dataset.testid = "basemap-notice";
      note.textContent = text;
    }
    if (config.basemapNotice) { notify(config.basemapNotice); }
    if (config.basemap && config.basemap.kind === "pmtiles" && window.civicgridBasemap) {
      window.civicgridBasemap.add(map, config.basemap, config, notify);
    }
  }

  function showError(container, config, spec, err) {
    var note = L.DomUtil.create("div", "cg-error", container);
    note.textContent = (config.lang === "en" ? "Could not load layer: " : "图层加载失败：") + spec.label;
    if (window.console) { console.warn(err); }
  }

  window.civicgridMap = {
    init: init, escape: esc, wgsToGcj: wgsToGcj, registerKind: registerKind,
    pane: paneFor, coordsToLatLng: coordsToLatLng
  };
})();

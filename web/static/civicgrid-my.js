/* The small map of /my: the caller's grids and their open problems as markers coloured
   by state (overdue, due soon, on time, awaiting verification), clustered when dense
   (leaflet.markercluster); each marker one tap from its problem. */
(function () {
  "use strict";
  var holder = document.getElementById("cg-my-map");
  if (!holder || !window.L) return;
  var labels = JSON.parse(holder.dataset.labels);
  var COLOURS = { overdue: "#c0392b", due_soon: "#e67e22", on_time: "#27ae60", awaiting: "#2980b9", found: "#7f8c8d" };
  var map = L.map(holder, { maxZoom: 19 }).setView([32.0, 120.86], 12);
  var base = window.civicgridPhoneMap(map, holder);
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "cg-legend");
    var html = "<div class='cg-legend-title'>" + labels.legend + "</div>";
    Object.keys(COLOURS).forEach(function (k) {
      html += "<div class='cg-legend-item'><span class='cg-swatch' style='background:" + COLOURS[k] + "'></span>" + labels[k] + "</div>";
    });
    div.innerHTML = html;
    return div;
  };
  legend.addTo(map);
  // Clustering only when dense: the page links leaflet.markercluster then (the server
  // knows the count; mywork.CLUSTER_MIN), so the usual grid with a few dozen problems
  // loads three files fewer on a slow connection. Fetched here if the page did not.
  var CLUSTER_MIN = parseInt(holder.dataset.clusterMin, 10);
  function withClustering(n) {
    if (n < CLUSTER_MIN) return Promise.resolve(L.layerGroup());
    if (L.markerClusterGroup) return Promise.resolve(L.markerClusterGroup({ maxClusterRadius: 40 }));
    var base = holder.dataset.cluster;
    ["MarkerCluster.css", "MarkerCluster.Default.css"].forEach(function (name) {
      var link = document.createElement("link");
      link.rel = "stylesheet"; link.href = base + name;
      document.head.appendChild(link);
    });
    return new Promise(function (resolve) {
      var script = document.createElement("script");
      script.src = base + "leaflet.markercluster.js";
      script.onload = function () { resolve(L.markerClusterGroup({ maxClusterRadius: 40 })); };
      script.onerror = function () { resolve(L.layerGroup()); };
      document.head.appendChild(script);
    });
  }
  var bounds = null;
  // The page carries its data (one round trip fewer on a slow connection); fetched only
  // when it does not.
  var inline = document.getElementById("cg-my-data");
  var data = inline ? JSON.parse(inline.textContent) : {};
  function load(key, url) {
    if (data[key]) return Promise.resolve(data[key]);
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }
  function extend(b) { if (b.isValid()) bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast()); }
  var areas = load("areas", holder.dataset.areas).then(function (geo) {
    extend(L.geoJSON(geo, { coordsToLatLng: base.coordsToLatLng, style: { color: "#555", weight: 2, fillOpacity: 0.04 } }).addTo(map).getBounds());
  }).catch(function () {});
  var marks = load("markers", holder.dataset.markers).then(function (geo) {
    return withClustering(geo.features.length).then(function (group) { return [geo, group]; });
  }).then(function (loaded) {
    var geo = loaded[0], cluster = loaded[1].addTo(map);
    holder.dataset.clustered = L.MarkerClusterGroup && cluster instanceof L.MarkerClusterGroup ? "1" : "0";
    var layer = L.geoJSON(geo, {
      coordsToLatLng: base.coordsToLatLng,
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 9, color: "#fff", weight: 2, fillOpacity: 0.95, fillColor: COLOURS[f.properties.state] || "#777" });
      },
      onEachFeature: function (f, m) {
        m.bindPopup("<a href='/problems/" + f.properties.id + "'>#" + f.properties.id + " " + labels[f.properties.state] + " · " + labels.open + "</a>");
      },
    });
    cluster.addLayer(layer);
    holder.dataset.markerCount = geo.features.length;
    extend(layer.getBounds());
  }).catch(function () {});
  Promise.all([areas, marks]).then(function () {
    if (bounds) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
    holder.dataset.ready = "1";
  });
})();

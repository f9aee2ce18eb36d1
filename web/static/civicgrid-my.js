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
  if (holder.dataset.tiles) {
    L.tileLayer(holder.dataset.tiles, { maxZoom: 19, attribution: holder.dataset.attribution || "" }).addTo(map);
  }
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
  var cluster = L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 40 }) : L.layerGroup();
  cluster.addTo(map);
  var bounds = null;
  function extend(b) { if (b.isValid()) bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast()); }
  var areas = fetch(holder.dataset.areas, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
    extend(L.geoJSON(geo, { style: { color: "#555", weight: 2, fillOpacity: 0.04 } }).addTo(map).getBounds());
  }).catch(function () {});
  var marks = fetch(holder.dataset.markers, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
    var layer = L.geoJSON(geo, {
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

/* The basemap of the phone maps (/my, /report): the one every map page uses
   (web.assets.configured_basemap, in the holder's data-basemap) — raster tiles, the
   PMTiles file (civicgrid-basemap.js) or none with its notice — and, for GCJ-02 tiles,
   the shift of the layers onto them (civicgrid-map.js's wgsToGcj) and back for a place
   the user picks on the map (the stored coordinates stay WGS-84). */
(function () {
  "use strict";
  window.civicgridPhoneMap = function (map, holder) {
    var spec = JSON.parse(holder.dataset.basemap || "{\"kind\": \"none\"}");
    var shift = spec.gcj02 && window.civicgridMap ? window.civicgridMap.wgsToGcj : null;
    function notify(text) {
      var note = L.DomUtil.create("div", "cg-error cg-basemap-notice", holder);
      note.setAttribute("role", "status");
      note.dataset.testid = "basemap-notice";
      note.textContent = text;
    }
    if (spec.notice) notify(spec.notice);
    if (spec.kind === "raster" && spec.url) {
      L.tileLayer(spec.url, { maxZoom: spec.maxZoom, subdomains: spec.subdomains, attribution: spec.attribution || "" }).addTo(map);
    } else if (spec.kind === "pmtiles" && window.civicgridBasemap) {
      window.civicgridBasemap.add(map, spec, {}, notify);
    }
    holder.dataset.gcj02 = shift ? "1" : "0";
    function toMap(lat, lon) {
      if (!shift) return L.latLng(lat, lon);
      var p = shift(lon, lat);
      return L.latLng(p[1], p[0]);
    }
    var api = {
      toMap: toMap,
      // WGS-84 of a point on the GCJ-02 map: the shift inverted by two fixed-point steps
      // (well under a metre; the shift is smooth).
      fromMap: function (latlng) {
        if (!shift) return L.latLng(latlng.lat, latlng.lng);
        var lat = latlng.lat, lon = latlng.lng;
        for (var i = 0; i < 2; i++) {
          var p = shift(lon, lat);
          lon += latlng.lng - p[0];
          lat += latlng.lat - p[1];
        }
        return L.latLng(lat, lon);
      },
      coordsToLatLng: function (c) { return toMap(c[1], c[0]); }
    };
    holder.cgMap = map;  // for tests and page scripts
    return api;
  };
})();

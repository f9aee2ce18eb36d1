/* civicgrid: one canvas layer for all areas of a level (used by civicgrid-heat.js).
 * 20,000 grids as Leaflet polygons cost seconds to create and draw; this layer keeps the
 * rings as arrays, projects them once per zoom level, draws them in one pass, and finds
 * the area under the mouse through a coarse grid of bounding boxes. It fires
 * "areahover", "areaout" and "areaclick" with the area's index. */
(function () {
  "use strict";
  var ShapesLayer = L.Layer.extend({
    initialize: function (latlngs, options) {
      L.setOptions(this, options);
      this._shapes = latlngs;           // [area][polygon][ring][[lat, lon]]
      this._styles = [];
      this._hover = -1;
      this._bounds = latlngs.map(function (polys) {
        var b = [Infinity, Infinity, -Infinity, -Infinity];
        polys.forEach(function (rings) {
          rings[0].forEach(function (p) {
            if (p[1] < b[0]) { b[0] = p[1]; } if (p[0] < b[1]) { b[1] = p[0]; }
            if (p[1] > b[2]) { b[2] = p[1]; } if (p[0] > b[3]) { b[3] = p[0]; }
          });
        });
        return b;
      });
      this._index = this._buildIndex();
    },

    _buildIndex: function () {
      var all = [Infinity, Infinity, -Infinity, -Infinity];
      this._bounds.forEach(function (b) {
        all = [Math.min(all[0], b[0]), Math.min(all[1], b[1]), Math.max(all[2], b[2]), Math.max(all[3], b[3])];
      });
      var n = Math.max(1, Math.round(Math.sqrt(this._bounds.length / 4)));
      var cw = (all[2] - all[0]) / n || 1, ch = (all[3] - all[1]) / n || 1, cells = {};
      this._bounds.forEach(function (b, i) {
        for (var x = Math.floor((b[0] - all[0]) / cw); x <= Math.floor((b[2] - all[0]) / cw); x++) {
          for (var y = Math.floor((b[1] - all[1]) / ch); y <= Math.floor((b[3] - all[1]) / ch); y++) {
            (cells[x + ":" + y] = cells[x + ":" + y] || []).push(i);
          }
        }
      });
      return { all: all, cw: cw, ch: ch, cells: cells };
    },

    setStyles: function (styles) { this._styles = styles; this._draw(); },

    onAdd: function (map) {
      var pane = map.getPane(this.options.pane);
      this._canvas = L.DomUtil.create("canvas", "cg-shapes leaflet-zoom-hide", pane);
      this._top = L.DomUtil.create("canvas", "cg-shapes leaflet-zoom-hide", pane);
      this._top.style.pointerEvents = "none";
      map.on("moveend zoomend resize viewreset", this._reset, this);
      map.on("mousemove", this._onMove, this);
      map.on("mouseout", this._onOut, this);
      map.on("click", this._onClick, this);
      this._projected = null;
      this._reset();
    },

    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      L.DomUtil.remove(this._top);
      map.off("moveend zoomend resize viewreset", this._reset, this);
      map.off("mousemove", this._onMove, this);
      map.off("mouseout", this._onOut, this);
      map.off("click", this._onClick, this);
    },

    _project: function () {
      var map = this._map, zoom = map.getZoom();
      if (this._projected && this._projectedZoom === zoom) { return; }
      this._projected = this._shapes.map(function (polys) {
        return polys.map(function (rings) {
          return rings.map(function (ring) {
            var out = new Float64Array(ring.length * 2);
            for (var i = 0; i < ring.length; i++) {
              var pt = map.project(L.latLng(ring[i][0], ring[i][1]), zoom);
              out[2 * i] = pt.x; out[2 * i + 1] = pt.y;
            }
            return out;
          });
        });
      });
      this._projectedZoom = zoom;
    },

    _reset: function () {
      var map = this._map;
      if (!map) { return; }
      var size = map.getSize(), ratio = window.devicePixelRatio || 1;
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      [this._canvas, this._top].forEach(function (c) {
        L.DomUtil.setPosition(c, topLeft);
        c.width = size.x * ratio; c.height = size.y * ratio;
        c.style.width = size.x + "px"; c.style.height = size.y + "px";
      });
      this._project();
      this._origin = map.getPixelOrigin().add(topLeft);
      this._ratio = ratio;
      this._draw();
    },

    _path: function (ctx, i) {
      var ox = this._origin.x, oy = this._origin.y;
      this._projected[i].forEach(function (rings) {
        rings.forEach(function (r) {
          ctx.moveTo(r[0] - ox, r[1] - oy);
          for (var k = 2; k < r.length; k += 2) { ctx.lineTo(r[k] - ox, r[k + 1] - oy); }
          ctx.closePath();
        });
      });
    },

    _draw: function () {
      if (!this._map || !this._projected) { return; }
      var ctx = this._canvas.getContext("2d"), r = this._ratio, opts = this.options;
      ctx.setTransform(r, 0, 0, r, 0, 0);
      ctx.clearRect(0, 0, this._canvas.width, this._canvas.height);
      var view = this._map.getBounds(), w = view.getWest(), s = view.getSouth(), e = view.getEast(), n = view.getNorth();
      ctx.lineJoin = "round";
      ctx.lineWidth = opts.weight;
      for (var i = 0; i < this._projected.length; i++) {
        var b = this._bounds[i];
        if (b[2] < w || b[0] > e || b[3] < s || b[1] > n) { continue; }
        var st = this._styles[i] || {};
        ctx.beginPath();
        this._path(ctx, i);
        ctx.globalAlpha = st.fillOpacity === undefined ? 0.75 : st.fillOpacity;
        ctx.fillStyle = st.fillColor || "#f4f4f4";
        ctx.fill("evenodd");
        ctx.globalAlpha = st.opacity === undefined ? 1 : st.opacity;
        ctx.strokeStyle = opts.color;
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
      this._drawHover();
    },

    _drawHover: function () {
      var ctx = this._top.getContext("2d"), r = this._ratio;
      ctx.setTransform(r, 0, 0, r, 0, 0);
      ctx.clearRect(0, 0, this._top.width, this._top.height);
      if (this._hover < 0) { return; }
      ctx.beginPath();
      this._path(ctx, this._hover);
      ctx.lineWidth = 2.5; ctx.strokeStyle = "#222";
      ctx.stroke();
    },

    hit: function (latlng) {
      var idx = this._index, x = latlng.lng, y = latlng.lat, shapes = this._shapes;
      var key = Math.floor((x - idx.all[0]) / idx.cw) + ":" + Math.floor((y - idx.all[1]) / idx.ch);
      var found = -1;
      (idx.cells[key] || []).some(function (i) {
        var b = this._bounds[i];
        if (x < b[0] || x > b[2] || y < b[1] || y > b[3]) { return false; }
        var inside = shapes[i].some(function (rings) {
          var count = 0;
          rings.forEach(function (ring) { if (pointInRing(x, y, ring)) { count += 1; } });
          return count % 2 === 1;
        });
        if (inside) { found = i; }
        return inside;
      }, this);
      return found;
    },

    _onMove: function (e) {
      var target = e.originalEvent && e.originalEvent.target;
      if (target && target.tagName === "path") { this._onOut(); return; }  // over a marker
      var i = this.hit(e.latlng);
      if (i !== this._hover) { this._hover = i; this._drawHover(); }
      this._map.getContainer().style.cursor = i >= 0 ? "pointer" : "";
      this.fire(i >= 0 ? "areahover" : "areaout", { index: i, latlng: e.latlng });
    },

    _onOut: function () {
      this._hover = -1; this._drawHover();
      this.fire("areaout", {});
    },

    _onClick: function (e) {
      var i = this.hit(e.latlng);
      if (i >= 0) { this.fire("areaclick", { index: i, latlng: e.latlng }); }
    }
  });

  function pointInRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][1], yi = ring[i][0], xj = ring[j][1], yj = ring[j][0];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }


  window.civicgridMap.ShapesLayer = ShapesLayer;
})();

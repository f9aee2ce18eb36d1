/* civicgrid heat maps: choropleth by area, point density, problem markers, URL filters.
 * Layer kinds registered with civicgrid-map.js. Data come from /api/v1/shapes (compact
 * cg-rings-1 outlines, cached by version), /api/v1/heat (figures per area code),
 * /api/v1/heat/points (binned density) and /api/v1/heat/problems. Text from the data is
 * always escaped before it reaches HTML. */
(function () {
  "use strict";
  var cg = window.civicgridMap;
  var esc = cg.escape;
  var PALETTES = {
    count: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    density: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    ontime: ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
  };
  var ZERO = "#f4f4f4", NODATA = "#cccccc";
  var LEVELS = ["district", "street", "community", "grid"];
  var listeners = [];
  var state = { config: null, params: null };

  /* --- filters in the URL ---------------------------------------------------------- */

  function currentParams(config) {
    var params = new URLSearchParams(window.location.search);
    params.delete("lang");
    Object.keys(config.heat.defaults).forEach(function (k) {
      if (params.get(k) === config.heat.defaults[k]) { params.delete(k); }
    });
    return params;
  }

  function formParams(form, config) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "" && config.heat.defaults[key] !== value) { params.append(key, value); }
    });
    if (config.lang === "en") { params.set("lang", "en"); }
    ["sort", "page"].forEach(function (k) { params.delete(k); });
    return params;
  }

  function apiUrl(base, params, extra) {
    var query = new URLSearchParams(params);
    Object.keys(extra || {}).forEach(function (k) {
      if (extra[k] !== null && extra[k] !== undefined) { query.set(k, extra[k]); }
    });
    if (state.config.heat.within) { query.set("within", state.config.heat.within); }
    var text = query.toString();
    return base + (text ? "?" + text : "");
  }

  function levelOf(params) { return params.get("level") || state.config.heat.defaults.level; }
  function metricOf(params) { return params.get("metric") || state.config.heat.defaults.metric; }
  function statusOf(params) { return params.get("status") || state.config.heat.defaults.status; }

  function notice(message) {
    var box = document.getElementById("cg-live-notice");
    if (!box) { return; }
    box.textContent = message || "";
    box.hidden = !message;
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (!r.ok) {
            var msg = body && body.error ? body.error.message : "HTTP " + r.status;
            var err = new Error(msg);
            err.userMessage = msg;
            throw err;
          }
          return body;
        });
      });
  }

  function bindForm(config) {
    var form = document.getElementById("cg-filters");
    if (!form) { return; }
    if (form.dataset.live !== "1") {  // area pages reload: the table comes from the server
      form.addEventListener("change", function () { form.submit(); });
      return;
    }
    function apply(event) {
      if (event) { event.preventDefault(); }
      var params = formParams(form, config);
      var url = window.location.pathname + (params.toString() ? "?" + params.toString() : "");
      window.history.replaceState(null, "", url);
      state.params = params;
      notice("");
      document.querySelectorAll("[data-cg-static-notice]").forEach(function (n) { n.hidden = true; });
      listeners.forEach(function (fn) { fn(params); });
    }
    form.addEventListener("change", apply);
    form.addEventListener("submit", apply);
  }

  function onFilters(fn) { listeners.push(fn); }

  /* The problem-export links (exports/_links.html) follow the filters changed in place,
     as web.pages.heatview.export_args writes them: status always, district as area. */
  var EXPORT_KEYS = ["status", "category", "kind", "campaign", "from", "to", "area"];
  function followExports(params) {
    document.querySelectorAll("a[data-cg-filtered-export]").forEach(function (a) {
      var url = new URL(a.href, window.location.href);
      EXPORT_KEYS.forEach(function (k) { url.searchParams.delete(k); });
      url.searchParams.set("status", statusOf(params));
      ["category", "kind", "campaign", "from", "to"].forEach(function (k) {
        if (params.get(k)) { url.searchParams.set(k, params.get(k)); }
      });
      if (params.get("district")) { url.searchParams.set("area", "district:" + params.get("district")); }
      a.href = url.pathname + url.search;
    });
  }
  listeners.push(followExports);

  /* --- compact outlines (geo/reports/shapes.py, cg-rings-1) -------------------------------- */

  function decodeShapes(data, gcj02) {
    var scale = data.scale, ox = data.origin[0], oy = data.origin[1];
    return data.shapes.map(function (polygons) {
      return polygons.map(function (rings) {
        return rings.map(function (ring) {
          var out = new Array(ring.length / 2), x = 0, y = 0;
          for (var i = 0; i < ring.length; i += 2) {
            x += ring[i]; y += ring[i + 1];
            var lon = ox + x / scale, lat = oy + y / scale;
            if (gcj02) { var p = cg.wgsToGcj(lon, lat); lon = p[0]; lat = p[1]; }
            out[i / 2] = [lat, lon];
          }
          return out;
        });
      });
    });
  }


  /* --- choropleth -------------------------------------------------------------------- */

  function classIndex(value, breaks) {
    for (var i = 0; i < breaks.length; i++) { if (value <= breaks[i] + 1e-12) { return i; } }
    return breaks.length - 1;
  }

  function colourFor(value, metric, breaks) {
    if (value === null || value === undefined || isNaN(value)) { return NODATA; }
    if (metric !== "ontime" && value <= 0) { return ZERO; }
    var palette = PALETTES[metric];
    if (metric === "ontime") {
      return palette[Math.min(classIndex(value, breaks), palette.length - 1)];
    }
    var offset = palette.length - breaks.length;  // few classes: use the darker colours
    return palette[Math.max(0, offset) + classIndex(value, breaks)];
  }

  function fmt(value, digits) {
    if (value === null || value === undefined || isNaN(value)) { return "–"; }
    return Number(value).toLocaleString(state.config.lang === "en" ? "en" : "zh-CN", {
      maximumFractionDigits: digits, minimumFractionDigits: 0
    });
  }

  function pct(value) {
    return value === null || value === undefined || isNaN(value) ? "–" : fmt(value * 100, 1) + "%";
  }

  function valueTitle(metric, status) {
    var text = state.config.heat.text;
    if (metric === "ontime") { return text.ontime; }
    return text[metric + "_" + status];
  }

  function Choropleth(map, spec, index, group, config, done) {
    this.map = map; this.group = group; this.config = config; this.done = done;
    this.pane = cg.pane(map, spec, index);
    this.shapes = {};   // level → {data, latlngs}
    this.layer = null;
    this.level = null;
    this.heat = null;
    this.seq = 0;
    this.tooltip = L.tooltip({ sticky: true, direction: "top", offset: [0, -6] });
    this.legend = this.makeLegend();
    var self = this;
    group.on("add", function () { self.legend.addTo(map); });
    group.on("remove", function () { self.legend.remove(); });
    if (map.hasLayer(group)) { this.legend.addTo(map); }
  }

  Choropleth.prototype.shapesFor = function (level) {
    var self = this, cached = this.shapes[level];
    if (cached) { return Promise.resolve(cached); }
    var url = apiUrl(this.config.heat.shapesUrl, new URLSearchParams(),
      { level: level, v: this.config.heat.areasVersion });
    return getJson(url).then(function (data) {
      var entry = { data: data, latlngs: decodeShapes(data, self.config.gcj02), index: {} };
      data.codes.forEach(function (code, i) { entry.index[code] = i; });
      self.shapes[level] = entry;
      return entry;
    });
  };

  Choropleth.prototype.refresh = function (params) {
    var self = this, seq = ++this.seq;
    var level = levelOf(params);
    var container = this.map.getContainer();
    container.dataset.heatLoading = "1";
    var heatUrl = apiUrl(this.config.layers.filter(function (l) { return l.kind === "choropleth"; })[0].url, params);
    return Promise.all([this.shapesFor(level), getJson(heatUrl)])
      .then(function (results) {
        if (seq !== self.seq) { return; }
        self.map.closePopup();  // its figures belong to the previous view
        self.hideTip();
        self.setHeat(results[1], results[0]);
        if (!self.draw(level, results[0])) { self.paint(); }
        self.updateLegend(results[1]);
        container.dataset.heatLoading = "0";
        container.dataset.heatSeq = String(seq);
        self.done(results[0].data.codes.length);
      })
      .catch(function (err) {
        if (seq !== self.seq) { return; }
        container.dataset.heatLoading = "0";
        container.dataset.heatSeq = String(seq);
        if (err.userMessage) { notice(err.userMessage); self.done(self.entry ? self.entry.latlngs.length : 0); }
        else { self.done(-1, err); }
      });
  };

  /* Returns true when it created the layer (already in its colours). */
  Choropleth.prototype.draw = function (level, shapes) {
    if (this.level === level && this.layer) { return false; }
    var self = this;
    this.group.clearLayers();
    this.level = level;
    this.entry = shapes;
    this.layer = new cg.ShapesLayer(shapes.latlngs, {
      pane: this.pane, color: "#666", weight: level === "grid" ? 0.5 : 1.2
    });
    this.layer.setStyles(shapes.latlngs.map(function (_, i) { return self.styleOf(i); }));
    this.layer.on("areahover", function (e) {
      self.tooltip.setContent(self.describe(e.index, false)).setLatLng(e.latlng);
      if (!self.map.hasLayer(self.tooltip)) { self.map.openTooltip(self.tooltip); }
    });
    this.layer.on("areaout", function () { self.map.closeTooltip(self.tooltip); });
    this.layer.on("areaclick", function (e) {
      L.popup({ maxWidth: 320 }).setLatLng(e.latlng)
        .setContent(self.describe(e.index, true)).openOn(self.map);
    });
    this.group.addLayer(this.layer);
    this.countShown();
    return true;
  };

  Choropleth.prototype.figures = function (i) {
    var heat = this.heat, code = this.entry.data.codes[i];
    var k = heat ? heat.index[code] : undefined;
    if (k === undefined) { return null; }
    var d = heat.data, closed = d.closed[k], due = closed + d.overdue[k];
    return {
      count: d.count[k], unresolved: d.unresolved[k], overdue: d.overdue[k], closed: closed,
      ontime: due > 0 ? d.closed_on_time[k] / due : null,
      density: d.km2[k] > 0 ? d.count[k] / d.km2[k] : null,
      value: d.value ? d.value[k] : d.count[k]
    };
  };

  Choropleth.prototype.describe = function (i, withLink) {
    var text = this.config.heat.text, data = this.entry.data, f = this.figures(i);
    var metric = metricOf(state.params), status = statusOf(state.params);
    var html = "<div class='cg-tip'><b>" + esc(data.names[i]) + "</b><br><span class='cg-muted'>" +
      esc(text["level_" + this.level]) + " · " + esc(data.codes[i]) + "</span>";
    if (f) {
      var main = metric === "ontime" ? pct(f.value) : fmt(f.value, metric === "density" ? 1 : 0);
      html += "<div class='cg-tip-main'>" + esc(valueTitle(metric, status)) + ": <b>" + esc(main) + "</b></div>" +
        "<table class='cg-tip-table'><tr><td>" + esc(text.unresolved) + "</td><td>" + esc(fmt(f.unresolved, 0)) + "</td></tr>" +
        "<tr><td>" + esc(text.overdue) + "</td><td>" + esc(fmt(f.overdue, 0)) + "</td></tr>" +
        "<tr><td>" + esc(text.ontime) + "</td><td>" + esc(pct(f.ontime)) + "</td></tr>" +
        "<tr><td>" + esc(text.density) + "</td><td>" + esc(fmt(f.density, f.density < 10 ? 2 : 1)) + " " + esc(text.per_km2) + "</td></tr></table>";
    }
    if (withLink) {
      var params = new URLSearchParams(state.params);
      params.delete("level"); params.delete("district");
      var query = params.toString();
      var href = this.config.heat.pages[this.level] + encodeURIComponent(data.codes[i]) + (query ? "?" + query : "");
      html += "<a class='cg-tip-link' href='" + esc(href) + "'>" + esc(text.list) + " →</a>";
    }
    return html + "</div>";
  };

  Choropleth.prototype.hideTip = function () { this.map.closeTooltip(this.tooltip); };

  /* Keep the heat response, its code → position index and the position of each shape. */
  Choropleth.prototype.setHeat = function (data, shapes) {
    if (!data.count) {  // the count the status asks for, not repeated by the server
      data.count = data.status === "all"
        ? data.unresolved.map(function (u, k) { return u + data.closed[k]; })
        : data[data.status];
    }
    var index = {};
    data.codes.forEach(function (code, k) { index[code] = k; });
    this.heat = { data: data, index: index, values: data.value || data.count };
    this.pos = shapes.data.codes.map(function (code) { return index[code]; });
  };

  Choropleth.prototype.styleOf = function (i) {
    var k = this.pos[i], d = this.heat.data;
    if (k === undefined) { return { fillColor: ZERO, fillOpacity: 0.08, opacity: 0.3 }; }
    return { fillColor: colourFor(this.heat.values[k], d.metric, d.breaks), fillOpacity: 0.75, opacity: 1 };
  };

  Choropleth.prototype.paint = function () {
    var self = this;
    this.layer.setStyles(this.entry.latlngs.map(function (_, i) { return self.styleOf(i); }));
    this.countShown();
  };

  Choropleth.prototype.countShown = function () {
    var shown = this.pos.filter(function (k) { return k !== undefined; }).length;
    this.map.getContainer().dataset.heatShown = String(shown);
  };

  Choropleth.prototype.makeLegend = function () {
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "cg-legend cg-heat-legend");
      div.setAttribute("data-testid", "heat-legend");
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return control;
  };

  Choropleth.prototype.updateLegend = function (data) {
    var div = this.legend.getContainer();
    if (!div) { return; }
    var text = this.config.heat.text, metric = data.metric, breaks = data.breaks;
    var digits = metric === "density" ? 1 : 0;
    var html = "<div class='cg-legend-title'>" + esc(valueTitle(metric, data.status)) +
      " · " + esc(text["level_" + data.level]) + "</div>";
    function row(colour, label) {
      return "<div class='cg-legend-item'><span class='cg-box' style='background:" + colour + "'></span>" + esc(label) + "</div>";
    }
    if (metric === "ontime") {
      var lower = 0;
      breaks.forEach(function (b, i) {
        html += row(PALETTES.ontime[i], pct(lower) + " – " + pct(b));
        lower = b;
      });
      html += row(NODATA, text.no_data);
    } else {
      html += row(ZERO, "0 (" + text.zero + ")");
      var offset = Math.max(0, PALETTES[metric].length - breaks.length), low = 0;
      breaks.forEach(function (b, i) {
        // Counts are whole numbers: a class (low, b] holds floor(low)+1 … floor(b), so a
        // fractional break never shows as "4 – 4" or rounds up past the class's values.
        var from = digits === 0 ? Math.floor(low) + 1 : low;
        var to = digits === 0 ? Math.floor(b) : b;
        var label = (digits === 0 && from >= to) ? fmt(to, 0) : fmt(from, digits) + " – " + fmt(to, digits);
        html += row(PALETTES[metric][offset + i], label);
        low = b;
      });
    }
    var t = data.totals;
    html += "<div class='cg-legend-total'>" + esc(text.total) + ": " + esc(text.unresolved) + " " +
      esc(fmt(t.unresolved, 0)) + " · " + esc(text.overdue) + " " + esc(fmt(t.overdue, 0)) + "</div>";
    html += "<div class='cg-muted'>" + esc(text.as_of) + " " + esc(new Date(data.as_of).toLocaleString(
      this.config.lang === "en" ? "en" : "zh-CN")) + "</div>";
    div.innerHTML = html;
  };

  cg.registerKind("choropleth", function (map, spec, index, group, config, done) {
    state.config = config;
    state.params = state.params || currentParams(config);
    var layer = new Choropleth(map, spec, index, group, config, done);
    cg.choropleth = layer;
    onFilters(function (params) { layer.refresh(params); });
    bindForm(config);
    layer.refresh(state.params);
  });

  /* --- point density (server-binned, leaflet.heat) ---------------------------------- */

  cg.registerKind("density", function (map, spec, index, group, config, done) {
    state.config = config;
    state.params = state.params || currentParams(config);
    var heat = L.heatLayer([], { radius: 14, blur: 16, maxZoom: 17, minOpacity: 0.25 });
    var paneEl = map.getPane(cg.pane(map, spec, index));
    group.addLayer(heat);
    var seq = 0;
    function load() {
      if (!map.hasLayer(group)) { done(0); return; }
      // leaflet.heat always draws in the overlay pane, under the choropleth: lift it.
      if (heat._canvas && heat._canvas.parentNode !== paneEl) { paneEl.appendChild(heat._canvas); }
      var b = map.getBounds().pad(0.2), mine = ++seq;
      var bbox = [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()),
        Math.min(180, b.getEast()), Math.min(90, b.getNorth())].map(function (v) { return v.toFixed(6); }).join(",");
      getJson(apiUrl(spec.url, state.params, { bbox: bbox, zoom: map.getZoom() }))
        .then(function (data) {
          if (mine !== seq) { return; }
          var pts = data.points.map(function (p) {
            if (config.gcj02) { var q = cg.wgsToGcj(p[1], p[0]); return [q[1], q[0], p[2]]; }
            return p;
          });
          var size = map.getSize();
          if (size.x > 0 && size.y > 0) {  // leaflet.heat cannot draw on an empty canvas
            heat.setOptions({ max: data.max });
            heat.setLatLngs(pts);
          }
          map.getContainer().dataset.densityPoints = String(pts.length);
          done(pts.length);
        })
        .catch(function (err) { if (err.userMessage) { notice(err.userMessage); done(0); } else { done(-1, err); } });
    }
    // Its own legend, shown with the layer: a relative scale, unlike the choropleth's.
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "cg-legend cg-density-legend");
      div.dataset.testid = "density-legend";
      var en = config.lang === "en";
      div.innerHTML = "<div class='cg-legend-title'>" + cg.escape(spec.label) + "</div>" +
        "<div style='height:10px;width:150px;background:linear-gradient(to right," +
        " blue, cyan, lime, yellow, red)'></div>" +
        "<div style='display:flex;justify-content:space-between;width:150px'><span>" +
        (en ? "sparse" : "稀") + "</span><span>" + (en ? "dense" : "密") + "</span></div>";
      return div;
    };
    map.on("moveend", load);
    group.on("add", function () { legend.addTo(map); load(); });
    group.on("remove", function () { legend.remove(); });
    if (map.hasLayer(group)) { legend.addTo(map); }
    onFilters(load);
    load();
  });

  /* --- problem markers (area pages) -------------------------------------------------- */

  cg.registerKind("problems", function (map, spec, index, group, config, done) {
    state.config = config;
    state.params = state.params || currentParams(config);
    var text = config.heat.text, pane = cg.pane(map, spec, index);
    // SVG, not canvas: a full-map canvas on top would swallow the mouse for the layers
    // below; SVG circles take only the events on themselves (at most a few thousand).
    var renderer = L.svg({ pane: pane });
    function popup(p) {
      return "<div class='cg-tip'><b>" + esc(p.category) + "</b> · " + esc(p.status) +
        (p.overdue ? " · <span class='cg-overdue'>" + esc(text.overdue) + "</span>" : "") +
        "<div class='cg-tip-desc'>" + esc(p.description) + "</div>" +
        "<div class='cg-muted'>" + esc(text.found) + " " + esc(new Date(p.found_at).toLocaleDateString()) +
        (p.deadline ? " · " + esc(text.deadline) + " " + esc(new Date(p.deadline).toLocaleDateString()) : "") + "</div>" +
        "<a class='cg-tip-link' href='" + esc(config.heat.problemUrl + encodeURIComponent(p.id)) + "'>" +
        esc(text.details) + " #" + esc(p.id) + " →</a></div>";
    }
    function load() {
      getJson(apiUrl(spec.url, state.params))
        .then(function (data) {
          group.clearLayers();
          group.addLayer(L.geoJSON(data, {
            coordsToLatLng: cg.coordsToLatLng(config.gcj02),
            pointToLayer: function (f, latlng) {
              return L.circleMarker(latlng, {
                renderer: renderer, pane: pane, radius: 5, weight: 1, color: "#fff",
                fillColor: f.properties.overdue ? "#c0392b" : "#e67e22", fillOpacity: 0.95
              });
            },
            onEachFeature: function (f, layer) {
              layer.bindTooltip(function () {
                return "<b>" + esc(f.properties.category) + "</b><br>" + esc(f.properties.description);
              }, { sticky: true });
              layer.bindPopup(function () { return popup(f.properties); });
              layer.on("mouseover", function () { if (cg.choropleth) { cg.choropleth.hideTip(); } });
            }
          }));
          var note = document.getElementById("cg-marker-note");
          if (note) {
            note.textContent = data.total > data.features.length ? text.shown_of
              .replace("{shown}", fmt(data.features.length, 0)).replace("{total}", fmt(data.total, 0)) : "";
          }
          done(data.features.length);
        })
        .catch(function (err) { if (err.userMessage) { notice(err.userMessage); done(0); } else { done(-1, err); } });
    }
    onFilters(load);
    load();
  });

  /* --- inspection points follow the kind filter -------------------------------------- */

  function filterPoints(params) {
    var group = cg.groups && cg.groups.points;
    if (!group) { return; }
    var kinds = (params.get("kind") || "").split(",").filter(Boolean);
    group.eachLayer(function (geo) {
      if (!geo.eachLayer) { return; }
      geo.eachLayer(function (layer) {
        var show = !kinds.length || kinds.indexOf(layer.feature.properties.kind) >= 0;
        if (layer.setStyle) {
          layer.setStyle(show ? { opacity: 1, fillOpacity: layer instanceof L.CircleMarker ? 0.95 : 0.35 }
            : { opacity: 0, fillOpacity: 0 });
        }
        layer.options.interactive = show;
      });
    });
  }
  onFilters(filterPoints);

  /* The point-kind legend is shown only while the inspection points are. */
  function followPoints() {
    var group = cg.groups && cg.groups.points, map = cg.map;
    var legend = map && map.getContainer().querySelector(".cg-legend:not(.cg-heat-legend)");
    if (!group || !legend) { return; }
    function sync() { legend.style.display = map.hasLayer(group) ? "" : "none"; }
    group.on("add remove", sync);
    sync();
  }
  window.addEventListener("load", function () {
    followPoints();
    var tries = 0;
    (function initialKindFilter() {  // the points arrive by their own fetch
      var group = cg.groups && cg.groups.points;
      if (!state.params || !state.params.get("kind") || !group) { return; }
      if (group.getLayers().length) { filterPoints(state.params); return; }
      if (++tries < 60) { window.setTimeout(initialKindFilter, 250); }
    })();
  });

  cg.decodeShapes = decodeShapes;
  cg.LEVELS = LEVELS;
})();

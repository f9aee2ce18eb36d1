/* civicgrid's offline vector basemap: one PMTiles file from this origin, drawn by
 * protomaps-leaflet with the style below (layers written by geo/demo/basemap.py, or any
 * extract with the same layer names). Labels go through protomaps' labeler, which never
 * lets two labels overlap; area names are shown from the zoom where they fit. */
(function () {
  "use strict";

  var P = window.protomapsL;
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif';

  function kindIs(kind) { return function (z, f) { return f.props.kind === kind; }; }
  function levelIs(level) { return function (z, f) { return f.props.kind_detail === level; }; }

  function paintRules() {
    return [
      { dataLayer: "earth", symbolizer: new P.PolygonSymbolizer({ fill: "#f5f3ee" }) },
      { dataLayer: "landuse", symbolizer: new P.PolygonSymbolizer({ fill: "#ebe5da" }) },
      { dataLayer: "parks", symbolizer: new P.PolygonSymbolizer({ fill: "#cfe6c3" }) },
      { dataLayer: "water", symbolizer: new P.PolygonSymbolizer({ fill: "#a8cde8" }) },
      { dataLayer: "roads", filter: kindIs("minor"), minzoom: 14,
        symbolizer: new P.LineSymbolizer({ color: "#ffffff", width: P.exp(1.6, [[14, 1.5], [18, 8]]) }) },
      { dataLayer: "roads", filter: kindIs("major"),
        symbolizer: new P.LineSymbolizer({ color: "#d9cfbf", width: P.exp(1.6, [[11, 1.5], [18, 16]]) }) },
      { dataLayer: "roads", filter: kindIs("major"),
        symbolizer: new P.LineSymbolizer({ color: "#fffdf6", width: P.exp(1.6, [[11, 0.8], [18, 13]]) }) },
      { dataLayer: "boundaries", filter: levelIs("community"), minzoom: 14,
        symbolizer: new P.LineSymbolizer({ color: "#c9bfd6", width: 0.8, dash: [3, 3] }) },
      { dataLayer: "boundaries", filter: levelIs("street"), minzoom: 13,
        symbolizer: new P.LineSymbolizer({ color: "#ad9fc2", width: 1.2, dash: [5, 3] }) },
      { dataLayer: "boundaries", filter: levelIs("district"),
        symbolizer: new P.LineSymbolizer({ color: "#8f7fa8", width: 1.8, dash: [8, 4] }) }
    ];
  }

  /* Main roads drawn again above the areas, thin and translucent: findable streets. */
  function roadsOnTop() {
    return [
      { dataLayer: "roads", filter: kindIs("major"), minzoom: 12,
        symbolizer: new P.LineSymbolizer({ color: "#ffffff", opacity: 0.75,
          width: P.exp(1.6, [[12, 1], [18, 7]]) }) },
      { dataLayer: "water", symbolizer: new P.LineSymbolizer({ color: "#6fa8d6", width: 1.2, opacity: 0.9 }) }
    ];
  }

  /* Which names at which zoom: districts at city scale, streets and communities closer
   * in, grid names once zoomed to a community. Earlier rules win a contested spot. */
  var LABELS = [
    { kind: "district", minzoom: 10, maxzoom: 13, size: 16, weight: 700, fill: "#3c3347" },
    { kind: "street", minzoom: 13, maxzoom: 15, size: 14, weight: 600, fill: "#4b4257" },
    { kind: "community", minzoom: 14, maxzoom: 17, size: 12, weight: 500, fill: "#5b5466" },
    { kind: "grid", minzoom: 16, maxzoom: 22, size: 11, weight: 400, fill: "#77707f" }
  ];

  /* Records the labels actually drawn, per zoom (tests and the page can read them). */
  function recording(symbolizer, kind) {
    return {
      place: function (layout, geom, feature) {
        var labels = symbolizer.place(layout, geom, feature);
        (labels || []).forEach(function (label) {
          var draw = label.draw;
          label.draw = function (ctx, extra) {
            var drawn = window.civicgridMap.basemapLabels;
            var atZoom = drawn[layout.zoom] || (drawn[layout.zoom] = {});
            atZoom[feature.props.name] = kind;
            return draw(ctx, extra);
          };
        });
        return labels;
      }
    };
  }

  function labelRules() {
    var rules = LABELS.map(function (spec) {
      var text = new P.CenteredTextSymbolizer({
        labelProps: ["name"], fill: spec.fill, stroke: "#ffffff", width: 3,
        font: spec.weight + " " + spec.size + "px " + FONT
      });
      return { dataLayer: "places", filter: kindIs(spec.kind), minzoom: spec.minzoom,
        maxzoom: spec.maxzoom, symbolizer: recording(text, spec.kind) };
    });
    rules.push({ dataLayer: "roads", filter: kindIs("major"), minzoom: 15,
      symbolizer: recording(new P.LineLabelSymbolizer({ labelProps: ["name"], fill: "#6b6257",
        stroke: "#ffffff", width: 2, font: "500 11px " + FONT }), "road") });
    return rules;
  }

  /* The file's first bytes say whether it is a PMTiles v3 archive; anything else (a
   * 404, an HTML error page, a truncated file) leaves the map without a basemap and says
   * so, instead of a console full of tile errors. */
  function checkHeader(url) {
    return fetch(url, { credentials: "same-origin", headers: { Range: "bytes=0-126" } })
      .then(function (r) {
        if (r.status !== 206 && r.status !== 200) { throw new Error(url + " → HTTP " + r.status); }
        return r.arrayBuffer();
      })
      .then(function (buffer) {
        var bytes = new Uint8Array(buffer.slice(0, 8));
        var magic = String.fromCharCode.apply(null, Array.prototype.slice.call(bytes, 0, 7));
        if (magic !== "PMTiles" || bytes[7] !== 3) { throw new Error(url + " is not PMTiles v3"); }
      });
  }

  function add(map, spec, config, notify) {
    window.civicgridMap.basemapLabels = {};
    var container = map.getContainer();
    container.dataset.basemap = "loading";
    if (!P) { notify(spec.texts.failed); container.dataset.basemap = "failed"; return; }
    checkHeader(spec.url).then(function () {
      // One archive (header and directories read once) for two layers: the ground under
      // the map's layers, and the names and main roads above the areas (below the
      // markers, never catching the mouse) so the choropleth does not hide them.
      var archive = new P.PmtilesSource(spec.url, true).p;
      var ground = P.leafletLayer({
        url: archive, maxDataZoom: 15, maxZoom: spec.maxZoom, paintRules: paintRules(),
        labelRules: [], backgroundColor: "#e9ebe6", attribution: spec.attribution || ""
      });
      var pane = map.createPane("cg-basemap-labels");
      pane.style.zIndex = "480";
      pane.style.pointerEvents = "none";
      var names = P.leafletLayer({
        url: archive, maxDataZoom: 15, maxZoom: spec.maxZoom, pane: "cg-basemap-labels", attribution: "",
        paintRules: roadsOnTop(), labelRules: labelRules()
      });
      ground.addTo(map);
      ground.bringToBack();
      names.addTo(map);
      window.civicgridMap.basemap = { ground: ground, names: names };
      container.dataset.basemap = "ready";
    }).catch(function (err) {
      container.dataset.basemap = "failed";
      notify(spec.texts.failed);
      if (window.console) { console.warn(err); }
    });
  }

  window.civicgridBasemap = { add: add };
})();

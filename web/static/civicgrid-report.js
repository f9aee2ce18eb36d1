/* The report form (/report): location from the phone (accuracy shown, pin draggable),
   nearby inspection points by distance, categories of the point's kind first, photos
   resized in the browser, and sending through the offline queue (civicgrid-mobile.js)
   so that nothing is lost when the connection drops or the page is closed. */
(function () {
  "use strict";
  var form = document.getElementById("cg-report-form");
  if (!form) return;
  var data = JSON.parse(document.getElementById("cg-report-data").textContent);
  var msg = data.msg, maxBytes = parseInt(form.dataset.photoMax, 10);
  var MAX_SIDE = 1600, POOR_M = 100;
  var accuracy = null, map, pin, base, points = [];

  function $(sel) { return form.querySelector(sel); }
  function say(el, text) { el.textContent = text || ""; el.hidden = !text; }
  function clientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  // --- categories: those of the chosen point's kind first ----------------------------
  function fillCategories(kind) {
    var select = $("#cg-category"), current = select.value;
    var first = data.categories.filter(function (c) { return kind && c.kinds.indexOf(kind) >= 0; });
    var rest = data.categories.filter(function (c) { return first.indexOf(c) < 0; });
    select.innerHTML = "";
    // With a point chosen: its kind's usual categories in a group of their own, first.
    [[first, msg.usual], [rest, first.length ? msg.others : null]].forEach(function (pair) {
      var parent = select;
      if (pair[1] && pair[0].length) {
        parent = document.createElement("optgroup");
        parent.label = pair[1];
        select.appendChild(parent);
      }
      pair[0].forEach(function (c) {
        var o = document.createElement("option");
        o.value = c.code; o.textContent = c.label;
        parent.appendChild(o);
      });
    });
    if (current) select.value = current;
  }

  // --- location ---------------------------------------------------------------------
  function place(lat, lon, acc) {
    form.elements.lat.value = lat.toFixed(6);
    form.elements.lon.value = lon.toFixed(6);
    if (acc !== undefined) accuracy = acc;
    var text = accuracy === null ? "" : msg.accuracy.replace("{m}", Math.round(accuracy));
    say(form.querySelector("[data-testid=location-text]"), lat.toFixed(5) + ", " + lon.toFixed(5) + "  " + text);
    warn();
    if (map) {
      var shown = base.toMap(lat, lon);  // GCJ-02 tiles: the pin shifted onto them
      if (!pin) {
        pin = L.marker(shown, { draggable: true }).addTo(map);
        pin.on("dragend", function () { var p = base.fromMap(pin.getLatLng()); byHand = true; accuracy = null; place(p.lat, p.lng); });
      } else pin.setLatLng(shown);
      map.setView(shown, Math.max(map.getZoom(), 16));
    }
    nearby(lat, lon);
  }
  var where = { outside: false, in_scope: true };
  function warn() {
    var notes = [];
    if (accuracy !== null && accuracy > POOR_M) notes.push(msg.poor);
    if (where.outside) notes.push(msg.outside);
    else if (!where.in_scope) notes.push(msg.out_of_scope);
    say(form.querySelector("[data-testid=location-warning]"), notes.join(" "));
  }
  // A place picked by hand (tap, drag) wins over the first automatic fix arriving late;
  // the locate button always takes the phone's position.
  var byHand = false;
  function locate(auto) {
    if (!navigator.geolocation) { say(form.querySelector("[data-testid=location-text]"), msg.no_location); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      if (auto === true && byHand) return;
      place(pos.coords.latitude, pos.coords.longitude, pos.coords.accuracy);
    }, function () {
      say(form.querySelector("[data-testid=location-text]"), msg.no_location);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }
  // Answers can arrive out of order (a pin moved while the first lookup runs): only the
  // latest place's answer may set the warnings and the suggested points.
  var asked = 0;
  function nearby(lat, lon) {
    var ticket = ++asked;
    fetch(form.dataset.nearby + "?lon=" + lon + "&lat=" + lat, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { points: [] }; })
      .then(function (body) {
        if (ticket !== asked) return;
        points = body.points;
        where = { outside: !!body.outside, in_scope: body.in_scope !== false };
        warn();
        var select = $("#cg-point"), keepFirst = select.options[0];
        select.innerHTML = ""; select.appendChild(keepFirst);
        points.forEach(function (p) {
          var o = document.createElement("option");
          o.value = p.code;
          o.textContent = p.name + " · " + p.kind_label + " · " + p.distance_m + " " + msg.m;
          select.appendChild(o);
        });
        if (points.length) { select.value = points[0].code; }
        fillCategories(points.length ? points[0].kind : null);
      }).catch(function () {});  // offline: no suggestions, the report still works
  }
  $("#cg-point").addEventListener("change", function () {
    var chosen = points.filter(function (p) { return p.code === this.value; }, this)[0];
    fillCategories(chosen ? chosen.kind : null);
  });
  form.querySelector("[data-action=locate]").addEventListener("click", function () { locate(false); });

  // --- photos: checked, then resized to at most MAX_SIDE pixels as JPEG --------------
  function resized(file) {
    if (!file) return Promise.resolve(null);
    if (!/^image\//.test(file.type)) return Promise.reject(msg.photo_type);
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.8); });
    }, function () { throw msg.photo_type; }).then(function (blob) {
      if (blob && blob.size > maxBytes) throw msg.photo_big;
      return blob;
    });
  }

  // --- fixed on the spot --------------------------------------------------------------
  var fixed = form.elements.fixed;
  fixed.addEventListener("change", function () {
    form.querySelector("[data-testid=fixed-fields]").hidden = !fixed.checked;
  });

  // --- sending: always through the queue ------------------------------------------------
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var error = form.querySelector("[data-testid=report-error]");
    say(error, "");
    if (!form.elements.lon.value) { say(error, msg.pick_location); return; }
    if (accuracy !== null && accuracy > POOR_M && !window.confirm(msg.confirm_poor)) return;
    if (where.outside && !window.confirm(msg.confirm_outside)) return;
    if (fixed.checked && !form.elements.note.value.trim()) { say(error, msg.note_needed); return; }
    var fields = {};
    ["category", "lon", "lat", "description", "point_code"].forEach(function (k) { fields[k] = form.elements[k].value; });
    if (fixed.checked) { fields.fixed = "1"; fields.note = form.elements.note.value; }
    var photo = form.elements.photo.files[0], after = fixed.checked ? form.elements.after.files[0] : null;
    Promise.all([resized(photo), resized(after)]).then(function (blobs) {
      var item = { client_id: clientId(), fields: fields, photo: blobs[0], after: blobs[1], queued_at: Date.now() };
      return window.cgQueue.add(item);
    }).then(function () {
      form.reset(); accuracy = null;
      form.querySelector("[data-testid=fixed-fields]").hidden = true;
      if (pin) { var p = base.fromMap(pin.getLatLng()); form.elements.lat.value = p.lat.toFixed(6); form.elements.lon.value = p.lng.toFixed(6); }
      return window.cgQueue.show();
    }).then(function () {
      return navigator.onLine ? window.cgQueue.flush() : null;
    }, function (problem) { say(error, String(problem)); });
  });

  // --- the map ------------------------------------------------------------------------------
  fillCategories(null);
  var holder = document.getElementById("cg-report-map");
  if (window.L && holder) {
    map = L.map(holder, { zoomControl: true, maxZoom: 19 }).setView([32.0, 120.86], 12);
    base = window.civicgridPhoneMap(map, holder);
    fetch(holder.dataset.areas, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
      var layer = L.geoJSON(geo, { coordsToLatLng: base.coordsToLatLng, style: { color: "#7f8c8d", weight: 2, fillOpacity: 0.05 } }).addTo(map);
      if (!pin && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
    }).catch(function () {});
    map.on("click", function (e) { var p = base.fromMap(e.latlng); byHand = true; accuracy = null; place(p.lat, p.lng); });
  }
  locate(true);
})();

/* civicgrid's service worker (served as /sw.js so that it controls every page).
   Hand-written instead of Workbox: three small caches are all the app needs.
   - assets (/static/, /vendor/): cache first, refreshed in the background;
   - pages and the caller's data (/my, /report, /api/v1/my/markers, grid outlines):
     network first, the last good copy when offline;
   - everything else, and every POST, goes to the network untouched.
   Logging out empties the pages cache: one person's work list never shows to the next. */
"use strict";
var VERSION = "cg-v2";
var ASSETS = VERSION + "-assets", PAGES = VERSION + "-pages";
var SHELL = ["/my", "/report", "/api/v1/my/markers", "/api/v1/areas?level=grid"];
var STATIC = [
  "/static/civicgrid.css", "/static/civicgrid-mobile.css", "/static/civicgrid-mobile.js",
  "/static/civicgrid-my.js", "/static/civicgrid-report.js", "/static/civicgrid-phonemap.js",
  "/static/favicon.svg",
  "/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css",
  "/vendor/leaflet.markercluster/leaflet.markercluster.js",
  "/vendor/leaflet.markercluster/MarkerCluster.css",
  "/vendor/leaflet.markercluster/MarkerCluster.Default.css",
];

function keep(cacheName, urls) {
  // One by one: a page that needs a login (a redirect) must not fail the whole install.
  return caches.open(cacheName).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (r.ok && !r.redirected) return cache.put(url, r);
      }).catch(function () {});
    }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(Promise.all([keep(ASSETS, STATIC), keep(PAGES, SHELL)]).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf(VERSION) !== 0; }).map(function (n) {
      return caches["delete"](n);
    }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || caches.match(new URL(request.url).pathname, { ignoreVary: true }) ||
        new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    var fresh = fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(ASSETS).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
    return hit || fresh;
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    if (url.pathname === "/logout") caches["delete"](PAGES);
    return;
  }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/vendor/") === 0) {
    event.respondWith(cacheFirst(request));
  } else if (SHELL.indexOf(url.pathname + url.search) >= 0 || request.mode === "navigate") {
    event.respondWith(networkFirst(request));
  }
});

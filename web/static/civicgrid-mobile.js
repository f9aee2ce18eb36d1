/* civicgrid on phones, on every page (base.html): the header menu, filters folded
   behind a button, collapsible legends, tables read as lists, the service worker, and
   the offline queue of reports (IndexedDB) with its "N waiting" line.
   Plain ES5-style script: no build step, no library. */
(function () {
  "use strict";
  var PHONE = window.matchMedia("(max-width: 700px)");
  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  function tr(zh, en) { return lang === "en" ? en : zh; }

  // --- header menu: a <details>; a tap elsewhere closes it -------------------------
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.cg-menu[open], details.cg-exports[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });

  // --- the language link keeps the page's filters, also those a page script changed in
  // place (history.replaceState): only lang changes ---------------------------------
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest(".cg-lang a[data-lang]");
    if (!link) return;
    var params = new URLSearchParams(window.location.search);
    params.set("lang", link.getAttribute("data-lang"));
    link.href = window.location.pathname + "?" + params.toString();
  }, true);

  // --- on phones the user box and the language link go into the menu (one copy each) --
  function userIntoMenu() {
    var list = document.querySelector(".cg-menu-list");
    if (!list) return;
    var box = document.createElement("div");
    box.className = "cg-menu-phone";
    document.querySelectorAll(".cg-header > .cg-user, .cg-header > .cg-lang").forEach(function (el) {
      box.appendChild(el);
    });
    list.appendChild(box);
  }

  // --- filters folded behind a button on phones -------------------------------------
  function relayout() {
    var bar = document.querySelector(".cg-toolbar");
    if (bar) {
      document.documentElement.style.setProperty("--cg-toolbar-h", bar.getBoundingClientRect().bottom + "px");
    }
    window.dispatchEvent(new Event("resize"));  // Leaflet maps measure themselves again
  }
  function foldFilters() {
    // the maps' filter bars (cg-filters) and the rankings' and scores' forms (cg-filter)
    document.querySelectorAll("form.cg-filters, form.cg-filter").forEach(function (form) {
      if (form.previousElementSibling && form.previousElementSibling.classList.contains("cg-filter-toggle")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "cg-filter-toggle";
      button.setAttribute("data-testid", "filter-toggle");
      button.setAttribute("aria-expanded", "false");
      button.textContent = tr("筛选 ▾", "Filters ▾");
      button.addEventListener("click", function () {
        var open = form.classList.toggle("cg-unfolded");
        button.setAttribute("aria-expanded", open ? "true" : "false");
        relayout();
      });
      form.parentNode.insertBefore(button, form);
    });
    relayout();
  }

  // --- legends: the title opens and closes the rest (closed by default on phones) ----
  document.addEventListener("click", function (e) {
    var title = e.target.closest && e.target.closest(".cg-legend-title");
    if (title) title.parentNode.classList.toggle("cg-legend-open");
  });

  // --- tables read as lists on phones: each cell labelled with its column -----------
  function labelTables() {
    document.querySelectorAll("table.cg-table").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (tr_) {
        Array.prototype.forEach.call(tr_.children, function (td, i) {
          if (heads[i] && !td.hasAttribute("data-label")) td.setAttribute("data-label", heads[i]);
        });
      });
    });
  }

  // --- the offline queue of reports ------------------------------------------------
  var DB = "civicgrid", STORE = "reports";
  function db() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open(DB, 1);
      open.onupgradeneeded = function () { open.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
  }
  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode), out;
        out = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  var queue = {
    add: function (item) { return tx("readwrite", function (s) { return s.put(item); }); },
    all: function () { return tx("readonly", function (s) { return s.getAll(); }); },
    remove: function (id) { return tx("readwrite", function (s) { return s["delete"](id); }); },
    flush: flush,
    show: show,
  };
  window.cgQueue = queue;

  function csrf() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }
  function formData(item) {
    var data = new FormData();
    Object.keys(item.fields).forEach(function (k) { data.append(k, item.fields[k]); });
    data.append("client_id", item.client_id);
    if (item.photo) data.append("photo", item.photo, "photo.jpg");
    if (item.after) data.append("after", item.after, "after.jpg");
    return data;
  }
  var flushing = null, results = [];
  function flush() {
    if (flushing) return flushing;
    flushing = queue.all().then(function (items) {
      // A report the server refused is not sent again: it waits for the person.
      items = items.filter(function (item) { return !item.refused; });
      return items.sort(function (a, b) { return a.queued_at - b.queued_at; }).reduce(function (p, item) {
        return p.then(function (stop) { return stop ? stop : send(item); });
      }, Promise.resolve(false));
    }).then(show, show).then(function () { flushing = null; });
    return flushing;
  }
  // Resolves true when sending must stop (offline, logged out); a sent report leaves the
  // queue. A report the server refused (a 4xx other than 401, 408, 409, 429: out of scope,
  // bad input) stays with the server's reason, marked refused, and is not sent again until
  // the person discards it; other failures (5xx, busy) keep it queued to try again.
  function send(item) {
    if (!navigator.onLine) return Promise.resolve(true);
    return fetch("/api/v1/reports", {
      method: "POST", body: formData(item), credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" },
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 200 || r.status === 201) {
          results.push({ ok: true, id: body.id, url: body.url });
          return queue.remove(item.client_id).then(function () { return false; });
        }
        var message = body.error ? body.error.message : ("HTTP " + r.status);
        if (r.status === 401 || (body.error && body.error.code === "csrf_failed")) {
          item.reason = tr("登录已过期，请重新登录后发送", "Your session expired: log in again to send");
          item.login = true;
          return queue.add(item).then(function () { return true; });
        }
        item.reason = message;
        item.login = false;
        item.refused = r.status >= 400 && r.status < 500 && [408, 409, 429].indexOf(r.status) < 0;
        return queue.add(item).then(function () { return false; });
      });
    }, function () { return true; });  // network error: try again later
  }
  function show() {
    return queue.all().then(function (items) {
      document.querySelectorAll(".cg-queue-status").forEach(function (el) {
        var html = "";
        if (items.length) {
          var refused = items.filter(function (item) { return item.refused; }).length;
          html += "<b data-testid='queue-count'>" + items.length + "</b> " + (
            refused === items.length ? tr("条上报未被接受", "reports refused") :
            refused ? tr("条上报等待发送（" + refused + " 条未被接受）", "reports waiting to send (" + refused + " refused)") :
            tr("条上报等待发送", "reports waiting to send"));
          items.forEach(function (item) {
            if (item.reason) {
              html += "<br><span class='cg-warn' data-testid='queue-reason'>" +
                (item.refused ? tr("未被接受，不会再发送：", "Refused, not sent again: ") : "") + esc(item.reason) + "</span>";
              if (item.login) html += " <a href='/login?next=" + encodeURIComponent(location.pathname) + "'>" + tr("登录", "Log in") + "</a>";
              else html += " <button type='button' class='cg-secondary' data-discard='" + esc(item.client_id) + "' data-testid='queue-discard'>" + tr("放弃此条", "Discard") + "</button>";
            }
          });
        }
        results.forEach(function (r) {
          html += "<br><a data-testid='queue-sent' href='" + esc(r.url) + "'>" + tr("已发送：问题 #", "Sent: problem #") + r.id + "</a>";
        });
        el.innerHTML = html;
        el.hidden = !html;
      });
      return items.length;
    });
  }
  // A refused report stays in the queue with its reason until the person discards it.
  document.addEventListener("click", function (e) {
    var id = e.target.getAttribute && e.target.getAttribute("data-discard");
    if (id) queue.remove(id).then(show);
  });
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function start() {
    labelTables();
    if (PHONE.matches) { userIntoMenu(); foldFilters(); }
    if ("serviceWorker" in navigator) {
      // After the page is usable: the worker's precaching must not compete with the
      // page's own requests on a slow connection (bench/mobile.py).
      var register = function () {
        setTimeout(function () {
          navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
        }, 1500);
      };
      if (document.readyState === "complete") register();
      else window.addEventListener("load", register);
    }
    if (window.indexedDB && document.querySelector("meta[name=csrf-token]")) {
      show().then(function (n) { if (n && navigator.onLine) flush(); });
      window.addEventListener("online", flush);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

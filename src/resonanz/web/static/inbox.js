// Resonanz inbox: keyboard shortcuts, live updates (Server-Sent Events) and presence heartbeats.
// Loaded from /static (the CSP forbids inline script); every page works without it.
(function () {
  "use strict";

  function typingInField(event) {
    var t = event.target;
    var tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    return tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable);
  }

  function openHelp() {
    var dialog = document.querySelector("[data-shortcut-help]");
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) { dialog.showModal(); }
  }

  function listen(url, onCase, onPresence) {
    if (!url || typeof window.EventSource !== "function") { return null; }
    var source = new EventSource(url);
    source.addEventListener("case", function (e) {
      try { onCase(JSON.parse(e.data)); } catch (err) { /* a malformed event is ignored */ }
    });
    if (onPresence) {
      source.addEventListener("presence", function (e) {
        try { onPresence(JSON.parse(e.data)); } catch (err) { /* ignored */ }
      });
    }
    window.addEventListener("pagehide", function () { source.close(); });
    return source;
  }

  function showBanner() {
    var banner = document.querySelector("[data-live-banner]");
    if (banner) { banner.hidden = false; }
  }

  function queuePage(root) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-case-row]"));
    var index = -1;
    function select(i) {
      if (!rows.length) { return; }
      index = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (row, n) { row.classList.toggle("is-selected", n === index); });
      var link = rows[index].querySelector("[data-case-link]");
      if (link) { link.focus(); }
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typingInField(event)) { return; }
      var row = index >= 0 ? rows[index] : null;
      if (event.key === "j") { select(index + 1); event.preventDefault(); }
      else if (event.key === "k") { select(index - 1); event.preventDefault(); }
      else if (event.key === "Enter" && row) { window.location.href = row.getAttribute("data-href"); }
      else if ((event.key === "e" || event.key === "a") && row) {
        var form = row.querySelector('[data-row-action="' + event.key + '"]');
        if (form) { form.submit(); }
      }
      else if (event.key === "?") { openHelp(); }
    });
    listen(root.getAttribute("data-events-url"), function () { showBanner(); });
  }

  function casePage(root) {
    var me = root.getAttribute("data-user-id");
    var url = root.getAttribute("data-presence-url");
    var csrf = root.getAttribute("data-csrf");
    var texts = {};
    var tpl = document.querySelector("[data-presence-texts]");
    if (tpl && tpl.content) {
      tpl.content.querySelectorAll("[data-text]").forEach(function (el) { texts[el.getAttribute("data-text")] = el.textContent; });
    }
    var box = document.querySelector("[data-presence]");
    function render(people) {
      if (!box) { return; }
      while (box.firstChild) { box.removeChild(box.firstChild); }
      people.forEach(function (p) {
        if (String(p.user_id) === me) { return; }
        var span = document.createElement("span");
        span.className = "badge inbox-presence__item";
        span.setAttribute("data-presence-user", p.user_id);
        span.setAttribute("data-presence-kind", p.kind);
        span.textContent = (texts[p.kind] || "{name}").replace("{name}", p.display_name);
        box.appendChild(span);
        box.appendChild(document.createTextNode(" "));
      });
    }
    function beat(kind) {
      if (!url || !window.fetch) { return; }
      window.fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ kind: kind })
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (others) {
        if (others) { render(others); }
      }).catch(function () { /* the next beat tries again */ });
    }
    function leave(kind) {
      if (!url || !window.fetch) { return; }
      window.fetch(url + (kind ? "?kind=" + kind : ""), {
        method: "DELETE", credentials: "same-origin", keepalive: true, headers: { "X-CSRF-Token": csrf }
      }).catch(function () { /* expires on its own */ });
    }
    beat("viewing");
    window.setInterval(function () { if (!document.hidden) { beat("viewing"); } }, 10000);
    var lastTyping = 0;
    var typingTimer = null;
    document.addEventListener("input", function (event) {
      var t = event.target;
      if (!t || t.tagName !== "TEXTAREA") { return; }
      var now = Date.now();
      if (now - lastTyping > 5000) { lastTyping = now; beat("typing"); }
      if (typingTimer) { window.clearTimeout(typingTimer); }
      typingTimer = window.setTimeout(function () { lastTyping = 0; leave("typing"); }, 15000);
    });
    window.addEventListener("pagehide", function () { leave(null); });
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typingInField(event)) { return; }
      if (event.key === "e" || event.key === "a") {
        var button = document.querySelector('[data-shortcut="' + event.key + '"]');
        if (button) { button.click(); event.preventDefault(); }
      } else if (event.key === "?") { openHelp(); }
    });
    listen(root.getAttribute("data-events-url"), function (ev) {
      if (String(ev.actor_id) !== me) { showBanner(); }
    }, render);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var queue = document.querySelector("[data-inbox-queue]");
    if (queue) { queuePage(queue); }
    var one = document.querySelector("[data-inbox-case]");
    if (one) { casePage(one); }
  });
})();

/* The reply composer: loads into the case page, autosaves the draft, fills in a suggestion, and
   tells colleagues "typing" (H5's presence API). Everything works without it: forms post. */
(function () {
  "use strict";

  function post(url, csrf, fields) {
    var body = new URLSearchParams();
    body.set("csrf_token", csrf);
    Object.keys(fields).forEach(function (k) { body.set(k, fields[k]); });
    return window.fetch(url, { method: "POST", credentials: "same-origin", body: body });
  }

  function setup(root) {
    var text = root.querySelector("[data-care-text]");
    var state = root.querySelector("[data-autosave-state]");
    var versionField = root.querySelector("[data-version-field]");
    var csrf = root.getAttribute("data-csrf") || "";
    var caseId = root.getAttribute("data-case-id");
    var key = "resonanz-care-draft-" + caseId;
    if (!text) { return; }
    var stored = window.localStorage ? window.localStorage.getItem(key) : null;
    if (stored && !text.value) { text.value = stored; }
    root.querySelectorAll("[data-use-suggestion]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var box = link.closest("[data-suggestion-id]");
        var source = box ? box.querySelector("[data-suggestion-text]") : null;
        if (!source) { return; }
        event.preventDefault();
        text.value = source.textContent;
        text.dispatchEvent(new Event("input", { bubbles: true }));
        text.focus();
      });
    });
    var timer = null;
    var lastBeat = 0;
    text.addEventListener("input", function () {
      if (window.localStorage) { window.localStorage.setItem(key, text.value); }
      var now = Date.now();
      if (!document.querySelector("[data-inbox-case]") && now - lastBeat > 5000) {
        lastBeat = now;
        window.fetch("/api/v1/cases/" + caseId + "/presence", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ kind: "typing" })
        }).catch(function () { /* presence is a courtesy */ });
      }
      var url = root.getAttribute("data-autosave-url");
      if (!url) { return; }
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(function () {
        post(url, csrf, { text: text.value, version: versionField ? versionField.value : "" })
          .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
          .then(function (res) {
            if (res.ok) {
              if (versionField) { versionField.value = res.data.version; }
              if (window.localStorage) { window.localStorage.removeItem(key); }
              if (state) { state.textContent = state.getAttribute("data-saved") || "\u2713"; }
            } else if (state) {
              state.textContent = res.data.error || "";
            }
          })
          .catch(function () { /* kept in localStorage: nothing is lost */ });
      }, 1500);
    });
    var form = root.querySelector("[data-care-form]");
    if (form) { form.addEventListener("submit", function () { if (window.localStorage) { window.localStorage.removeItem(key); } }); }
  }

  function init() {
    var panel = document.querySelector("[data-care-panel]");
    if (panel && window.fetch) {
      window.fetch(panel.getAttribute("data-panel-url"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var composer = doc.querySelector("[data-care-composer]");
          if (!composer) { return; }
          var open = panel.querySelector("[data-care-open]");
          if (open && open.parentNode) { open.parentNode.remove(); }
          panel.appendChild(document.importNode(composer, true));
          setup(panel.querySelector("[data-care-composer]"));
        })
        .catch(function () { /* the link to the composer page stays */ });
    }
    document.querySelectorAll("[data-care-composer]").forEach(setup);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();

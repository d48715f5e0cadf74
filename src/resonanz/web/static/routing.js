/* Routing rule editor: tries the filter on recent cases as one types (debounced POST to the rule
   tester with the session's CSRF header) and says how many match, or where the filter is wrong.
   The form works without this script. */
(function () {
  "use strict";

  function setup(form) {
    var input = form.querySelector("[data-rule-filter]");
    var out = form.querySelector("[data-rule-result]");
    if (!input || !out) return;
    var timer = null, sequence = 0, last = null;

    function show(text, bad) {
      out.textContent = text;
      out.classList.toggle("routing-test--error", !!bad);
    }

    function run() {
      var text = input.value.trim();
      if (text === last) return;
      last = text;
      if (!text) { show("", false); return; }
      var mine = ++sequence;
      show(form.getAttribute("data-msg-testing") || "", false);
      fetch(form.getAttribute("data-test-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRF-Token": form.getAttribute("data-csrf") || "" },
        body: JSON.stringify({ filter: text })
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (mine !== sequence) return;
        if (!answer.ok) { show((answer.body && answer.body.detail) || "", true); return; }
        var msg = (form.getAttribute("data-msg-matches") || "{n}/{total}")
          .replace("{n}", String(answer.body.matched.length)).replace("{total}", String(answer.body.checked));
        var warnings = answer.body.warnings || [];
        show(warnings.length ? msg + " — " + warnings.join("; ") : msg, warnings.length > 0);
      }).catch(function () {
        if (mine !== sequence) return;
        last = null;
        show(form.getAttribute("data-msg-failed") || "", true);
      });
    }

    input.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, 350);
    });
    if (input.value.trim()) run();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-rule-editor]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

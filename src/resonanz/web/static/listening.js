/* The query editor's live test: as the user types, the draft is sent (debounced) to
   POST /api/v1/queries/test with the session's CSRF header (over the chosen period: ``since``
   the last 7, 30 or 90 days, or all history), and the count, a per-day volume
   curve (SVG built with DOM calls) and the newest matches are shown. Every text from the server
   goes in with textContent, never as HTML: sample posts are untrusted. A syntax error shows the
   parser's message and a caret under the column. Older answers that arrive late are dropped. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function svg(name, attrs) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { el.setAttribute(key, String(attrs[key])); });
    return el;
  }

  /* Days without mentions are left out by the server; the curve fills them with zero. */
  function dailySeries(volume) {
    if (!volume.length) return [];
    var byDay = {};
    volume.forEach(function (p) { byDay[p.day] = p.count; });
    var day = new Date(volume[0].day + "T00:00:00Z");
    var last = new Date(volume[volume.length - 1].day + "T00:00:00Z");
    var out = [];
    while (day <= last && out.length < 400) {
      var key = day.toISOString().slice(0, 10);
      out.push({ day: key, count: byDay[key] || 0 });
      day.setUTCDate(day.getUTCDate() + 1);
    }
    return out.length >= 400 ? volume : out;
  }

  function drawCurve(figure, volume, label, numberFormat) {
    clear(figure);
    var points = dailySeries(volume);
    if (!points.length) { figure.hidden = true; return; }
    var width = 600, height = 120, pad = 4;
    var peak = Math.max.apply(null, points.map(function (p) { return p.count; })) || 1;
    var step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
    var coords = points.map(function (p, i) {
      var x = pad + i * step;
      var y = height - pad - (p.count / peak) * (height - 2 * pad);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", class: "listening-curve__svg",
      preserveAspectRatio: "none" });
    var title = svg("title", {});
    title.textContent = label + ": " + points[0].day + " – " + points[points.length - 1].day +
      ", max " + numberFormat.format(peak);
    chart.appendChild(title);
    var area = svg("polygon", { class: "listening-curve__area",
      points: pad + "," + (height - pad) + " " + coords.join(" ") + " " + (pad + (points.length - 1) * step) + "," + (height - pad) });
    chart.appendChild(area);
    chart.appendChild(svg("polyline", { class: "listening-curve__line", points: coords.join(" ") }));
    var caption = document.createElement("figcaption");
    caption.className = "muted";
    caption.textContent = label + " · " + points[0].day + " – " + points[points.length - 1].day +
      " · max " + numberFormat.format(peak);
    figure.appendChild(chart);
    figure.appendChild(caption);
    figure.hidden = false;
  }

  function setup(root) {
    var input = root.querySelector("[data-query-input]");
    if (!input) return;
    var status = root.querySelector("[data-test-status]");
    var count = root.querySelector("[data-test-count]");
    var errorBox = root.querySelector("[data-test-error]");
    var errorMessage = root.querySelector("[data-test-error-message]");
    var caret = root.querySelector("[data-test-caret]");
    var curve = root.querySelector("[data-test-curve]");
    var samples = root.querySelector("[data-test-samples]");
    var period = root.querySelector("[data-test-period]");
    var msg = root.dataset;
    var lang = document.documentElement.lang || "en";
    var numberFormat = new Intl.NumberFormat(lang);
    var dateFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    var timer = null, controller = null, sequence = 0, lastText = null;

    function showError(text, problem) {
      errorBox.hidden = false;
      var column = problem.column;
      errorMessage.textContent = (column ? fill(msg.msgColumn, { col: column }) + " " : "") +
        (problem.reason || problem.detail || msg.msgFailed) + (problem.hint ? " (" + problem.hint + ")" : "");
      caret.textContent = column ? text + "\n" + " ".repeat(Math.max(0, column - 1)) + "^" : "";
      caret.hidden = !column;
      input.setAttribute("aria-invalid", "true");
      count.hidden = true;
      curve.hidden = true;
      clear(samples);
      status.textContent = "";
    }

    function showResult(result) {
      errorBox.hidden = true;
      input.removeAttribute("aria-invalid");
      var template = result.count === 1 ? msg.msgOne : msg.msgMany;
      if (result.partial && result.estimate != null) {
        // a budgeted scan checked an even sample of the candidates: show the estimate, say how
        // much was checked, and keep the exact lower bound visible
        var share = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
        count.textContent = fill(msg.msgEstimate, {
          num: numberFormat.format(result.estimate),
          share: share.format(result.scanned_share),
          found: numberFormat.format(result.count)
        });
      } else {
        count.textContent = fill(template, { num: numberFormat.format(result.count) }) +
          (result.partial ? " " + msg.msgPartial : "");
      }
      count.dataset.count = String(result.count);
      count.hidden = false;
      status.textContent = result.normalized + " · " + Math.round(result.elapsed_ms) + " ms";
      drawCurve(curve, result.volume, msg.msgCurve, numberFormat);
      clear(samples);
      result.samples.forEach(function (sample) {
        var item = document.createElement("li");
        var meta = document.createElement("span");
        meta.className = "muted";
        meta.textContent = dateFormat.format(new Date(sample.published_at)) + " · " + sample.platform + " ";
        var link = document.createElement("a");
        link.href = "/mentions/" + encodeURIComponent(String(sample.id));
        link.textContent = sample.text;
        item.appendChild(meta);
        item.appendChild(link);
        samples.appendChild(item);
      });
      samples.setAttribute("aria-label", msg.msgSamples);
    }

    function run() {
      var text = input.value.trim();
      var days = period ? period.value : "";
      if (text + "\n" + days === lastText) return;
      lastText = text + "\n" + days;
      if (controller) controller.abort();
      if (!text) {
        count.hidden = true; errorBox.hidden = true; curve.hidden = true; clear(samples);
        status.textContent = msg.msgEmpty;
        return;
      }
      var mine = ++sequence;
      controller = typeof AbortController === "function" ? new AbortController() : null;
      status.textContent = msg.msgTesting;
      root.setAttribute("aria-busy", "true");
      fetch(msg.testUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": msg.csrf },
        body: JSON.stringify(days ? { text: text, samples: 5, since: new Date(Date.now() - days * 86400000).toISOString() }
                                  : { text: text, samples: 5 }),
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
      }).then(function (answer) {
        if (mine !== sequence) return;
        root.removeAttribute("aria-busy");
        if (answer.ok) showResult(answer.body);
        else showError(text, answer.body || {});
      }).catch(function (err) {
        if (err && err.name === "AbortError") return;
        if (mine !== sequence) return;
        root.removeAttribute("aria-busy");
        lastText = null;
        status.textContent = msg.msgFailed;
      });
    }

    input.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, 350);
    });
    // the period: the same draft over the last 7, 30 or 90 days, or the whole history
    if (period) period.addEventListener("change", run);
    if (input.value.trim()) run();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-query-editor]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

/* Dashboards: hover/focus tooltips and click-through for the server-rendered SVG charts.
   Every point or bar is a <g class="rz-hit" data-tip="…" data-href="…" tabindex="0">; its text is
   read with getAttribute and written with textContent (never as HTML). Without JavaScript the
   charts still show their numbers as native <title> tooltips and the lists stay links. */
(function () {
  "use strict";

  function tooltip() {
    return document.querySelector("[data-rz-tooltip]");
  }

  function show(target, x, y) {
    var tip = tooltip();
    if (!tip) return;
    tip.textContent = target.getAttribute("data-tip") || "";
    tip.hidden = false;
    var width = tip.offsetWidth;
    var left = Math.min(Math.max(8, x + 12), window.innerWidth - width - 8);
    tip.style.left = left + window.scrollX + "px";
    tip.style.top = y + window.scrollY + 16 + "px";
  }

  function hide() {
    var tip = tooltip();
    if (tip) tip.hidden = true;
  }

  function hit(event) {
    var el = event.target;
    return el && el.closest ? el.closest(".rz-chart .rz-hit") : null;
  }

  function go(target) {
    var href = target.getAttribute("data-href");
    if (href && href.charAt(0) === "/") window.location.assign(href);
  }

  document.addEventListener("mousemove", function (event) {
    var target = hit(event);
    if (target) show(target, event.clientX, event.clientY);
    else hide();
  });
  document.addEventListener("focusin", function (event) {
    var target = hit(event);
    if (!target) return;
    var box = target.getBoundingClientRect();
    show(target, box.left + box.width / 2, box.top);
  });
  document.addEventListener("focusout", hide);
  document.addEventListener("click", function (event) {
    var target = hit(event);
    if (target) go(target);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    var target = hit(event);
    if (target) {
      event.preventDefault();
      go(target);
    }
  });

  // Custom dates only matter for the "custom" range: hide them otherwise (shown without JS).
  function syncRange() {
    var select = document.querySelector("[data-dash-range]");
    if (!select) return;
    var custom = select.value === "custom";
    document.querySelectorAll("[data-dash-custom]").forEach(function (el) {
      el.hidden = !custom;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.matches && event.target.matches("[data-dash-range]")) syncRange();
  });
  document.addEventListener("DOMContentLoaded", syncRange);
})();

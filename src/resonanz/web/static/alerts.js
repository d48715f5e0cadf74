// Alert pages: show only the fields of the chosen rule/channel kind, confirm deletions.
// Every form works without this script (the server ignores fields a kind does not use).
(function () {
  "use strict";
  function sync(select) {
    var form = select.form;
    if (!form) return;
    form.querySelectorAll("[data-for-kinds]").forEach(function (el) {
      var kinds = el.getAttribute("data-for-kinds").split(" ");
      el.hidden = kinds.indexOf(select.value) === -1;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-rule-kind]").forEach(function (select) {
      sync(select);
      select.addEventListener("change", function () { sync(select); });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();

/* Shared page helpers. web/base.html loads this file in <head>, before every page script.

   yiwang.escapeHtml(value) is the one way a script turns data into HTML. Names, descriptions and anything else
   a user or an administrator typed reach the page as JSON (json_script) and must pass through it wherever a
   script builds HTML: ECharts tooltip `formatter`s (the tooltip is HTML), innerHTML, insertAdjacentHTML and
   template strings. yiwang.html`...${value}...` is the same as a tagged template: every ${} is escaped.
   ECharts *label* formatters draw text on the canvas and are not HTML: do not escape those (the entity would
   show). The Content-Security-Policy (docs/security.md) is the second wall: injected markup cannot run script.

   Behaviours any page can opt into by attribute (CSP forbids inline handlers such as onclick=):
   - [data-print]           a button that prints the page;
   - [data-error-summary]   a form's error summary: focused when the page loads, so a screen reader announces it
                            and keyboard users start from it; its links move focus to the field they name. */
(function () {
  "use strict";
  var yiwang = (window.yiwang = window.yiwang || {});
  var entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

  yiwang.escapeHtml = function (value) {
    if (value === null || value === undefined) { return ""; }
    return String(value).replace(/[&<>"'`]/g, function (c) { return entities[c]; });
  };

  yiwang.html = function (strings) {
    var out = strings[0];
    for (var i = 1; i < strings.length; i++) {
      out += yiwang.escapeHtml(arguments[i]) + strings[i];
    }
    return out;
  };

  document.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target : null;
    if (!target) { return; }
    if (target.closest("[data-print]")) {
      e.preventDefault();
      window.print();
      return;
    }
    var link = target.closest("[data-error-summary] a[href^='#']");
    if (link) {
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (field) {
        e.preventDefault();
        field.scrollIntoView({ block: "center" });
        field.focus();
      }
    }
  });

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      if (!summary.hasAttribute("tabindex")) { summary.setAttribute("tabindex", "-1"); }
      summary.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorSummary);
  } else {
    focusErrorSummary();
  }
})();

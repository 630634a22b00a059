/* Starts Swagger UI on /api/docs (web/templates/web/api_docs.html) from the JSON settings block; with session
   authentication the page's CSRF token rides on every "Try it out" request. */
(function () {
  "use strict";
  var data = document.body.dataset;
  var config = JSON.parse(document.getElementById("swagger-settings").textContent);
  config.dom_id = "#swagger-ui";
  config.presets = [SwaggerUIBundle.presets.apis];  // layout "BaseLayout" needs no standalone preset
  if (data.apiCsrf && data.csrfToken) {
    config.requestInterceptor = function (req) {
      req.headers["X-CSRFToken"] = data.csrfToken;
      return req;
    };
  }
  window.ui = SwaggerUIBundle(config);
})();

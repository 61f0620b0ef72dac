// The query page: YASGUI (vendored under /static/yasgui) on this server's /sparql, with the canned
// queries offered as examples. Data comes from JSON blocks in the page, so no inline script is needed.
(function () {
  "use strict";
  function start() {
    var element = document.getElementById("yasgui");
    var initial = JSON.parse(document.getElementById("initial-query").textContent);
    var canned = JSON.parse(document.getElementById("canned-queries").textContent);
    var endpoint = new URL(element.getAttribute("data-endpoint"), window.location.href).href;
    var yasgui = new Yasgui(element, {
      requestConfig: { endpoint: endpoint, method: "POST" },
      copyEndpointOnNewTab: false,
      persistenceId: null,
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } }
    });
    var tab = yasgui.getTab();
    tab.setEndpoint(endpoint);
    tab.setQuery(initial);
    document.getElementById("examples").addEventListener("change", function (event) {
      var chosen = canned.filter(function (q) { return q.name === event.target.value; })[0];
      if (!chosen) { return; }
      var current = yasgui.getTab();
      current.setQuery(chosen.query);
      current.query();
    });
    window.kgYasgui = yasgui;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

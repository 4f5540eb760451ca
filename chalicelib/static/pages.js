// Progressive enhancement only: pick the visitor's timezone when the URL does not name one.
(function () {
  var select = document.querySelector("select[data-detect]");
  if (!select || new URLSearchParams(location.search).get("tz")) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && select.value !== zone) {
    var url = new URL(location.href);
    url.searchParams.set("tz", zone);
    location.replace(url.toString());
  }
})();

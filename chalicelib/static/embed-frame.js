// Inside /embed/{slug}: tell the parent page how tall this page is and when a booking was made.
// Messages go only to the origin the server named in data-parent-origin, which it sets only
// when that origin is one of the tenant's allowedOrigins; never to "*".
(function () {
  var parent = document.body.getAttribute("data-parent-origin");
  if (!parent || window.parent === window) { return; }
  function post(message) { window.parent.postMessage(message, parent); }
  var last = 0;
  function height() {
    var now = Math.ceil(document.documentElement.scrollHeight);
    if (now !== last) { last = now; post({ type: "scheduling:height", height: now }); }
  }
  var booked = document.querySelector("[data-embed-event]");
  if (booked) {
    post({
      type: booked.getAttribute("data-embed-event"),
      appointmentId: booked.getAttribute("data-appointment-id"),
      status: booked.getAttribute("data-status")
    });
  }
  height();
  if (window.ResizeObserver) { new ResizeObserver(height).observe(document.body); }
  window.addEventListener("resize", height);
})();

// The booking widget a business pastes into its own site:
//   <script src="https://BOOKING-HOST/static/embed.js" data-tenant="your-slug" async></script>
// It puts an iframe of BOOKING-HOST/embed/your-slug after itself (or into the element that
// data-target names), resizes it to its content and, when a client books, dispatches a
// "scheduling:booked" event (detail: {appointmentId, status}) that bubbles from the iframe.
// Messages are acted on only when they come from BOOKING-HOST and from this iframe.
(function () {
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var slug = script.getAttribute("data-tenant") || "";
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) { return; }
  var origin = new URL(script.src).origin;
  var src = new URL("/embed/" + slug, origin);
  src.searchParams.set("parent", window.location.origin);
  var frame = document.createElement("iframe");
  frame.src = src.toString();
  frame.title = script.getAttribute("data-title") || "Book an appointment";
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.height = (script.getAttribute("data-height") || "720") + "px";
  var target = script.getAttribute("data-target");
  var holder = target ? document.querySelector(target) : null;
  if (holder) { holder.appendChild(frame); } else { script.parentNode.insertBefore(frame, script.nextSibling); }
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (!data || typeof data.type !== "string") { return; }
    if (data.type === "scheduling:height" && typeof data.height === "number" && data.height > 0 && data.height < 20000) {
      frame.style.height = Math.ceil(data.height) + "px";
    } else if (data.type === "scheduling:booked" && typeof data.appointmentId === "string") {
      frame.dispatchEvent(new CustomEvent("scheduling:booked", {
        bubbles: true,
        detail: { appointmentId: data.appointmentId, status: String(data.status || "") }
      }));
    }
  });
})();

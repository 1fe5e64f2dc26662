// The synthesis report's map: a static script (allowed by its hash) that reads the
// data from the page's JSON block. Participant text only ever reaches the page as
// text nodes (textContent), never as HTML or code.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("map-data").textContent);

  function label(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  var map = L.map("map");
  L.control.scale().addTo(map);
  var osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19,
    attribution: "&copy; les contributeurs d'OpenStreetMap",
  }).addTo(map);
  var perimeter = L.geoJSON(data.perimeter, {
    interactive: false,
    style: { color: "#333333", weight: 2, fillOpacity: 0.03 },
  }).addTo(map);
  var contributions = L.featureGroup().addTo(map);
  data.points.forEach(function (p) {
    L.circleMarker([p.lat, p.lon], {
      radius: 4, weight: 1, color: p.color, fill: true,
      fillOpacity: p.flagged ? 0.3 : 0.8, dashArray: p.flagged ? "2" : null,
    }).bindTooltip(label(p.label)).addTo(contributions);
  });
  var hotspots = L.featureGroup().addTo(map);
  data.hotspots.forEach(function (h) {
    L.circle([h.lat, h.lon], { radius: h.radius, color: "#d62728", weight: 2, fill: false })
      .bindTooltip(label(h.label)).addTo(hotspots);
  });
  L.control.layers(
    { "Fond OpenStreetMap (en ligne)": osm },
    { "Périmètre": perimeter, "Contributions": contributions, "Points chauds": hotspots },
    { collapsed: false },
  ).addTo(map);
  var bounds = perimeter.getBounds();
  if (!bounds.isValid()) bounds = contributions.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds);
  else map.setView([46.6, 2.4], 5);
  document.body.setAttribute("data-markers", String(data.points.length));
})();

// Where the agent goes: the ticket's address, the map at street zoom, a geo: link
// for the phone's navigation app, the other reports around (with their distance),
// and a small form to correct the address.

import { ApiError } from "../api/client";
import { addressLabel, loadAround, setAddress, type Address, type Around, type Signalement } from "../api/signalements";
import { termLabel } from "../api/vocabulary";
import { announce, errorBox, field, h, mount } from "../dom";
import { stateLabel } from "../labels";
import type { CartoMap } from "../map";

const STREET_ZOOM = 18;

/** `geo:` URI (RFC 5870) of a point: Android and iOS open their navigation app on it. */
export function geoUri(lon: number, lat: number): string {
  return `geo:${lat.toFixed(6)},${lon.toFixed(6)}`;
}

function distance(m: number): string {
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1).replace(".", ",")} km`;
}

function aroundList(items: Around[]): HTMLElement {
  if (!items.length) return h("p", { class: "muted" }, "Aucun autre signalement à moins d'un kilomètre.");
  return h(
    "ul",
    { class: "around", "data-testid": "around" },
    items.map((i) =>
      h("li", null, h("a", { href: `/agent/signalements/${i.id}` }, `n° ${i.id}`), ` — ${i.category}, ${stateLabel(i.state)}`,
        i.address ? ` — ${i.address}` : "", h("span", { class: "meta" }, ` (${distance(i.distance_m)})`)),
    ),
  );
}

function correctionForm(s: Signalement, current: Address | null, done: () => void): HTMLElement {
  const input = (name: string, value: string | null | undefined, attrs: Record<string, string | number | boolean> = {}): HTMLInputElement =>
    h("input", { type: "text", name, value: value ?? "", ...attrs });
  const label = input("label", current?.label, { required: true, minlength: 3, maxlength: 300 });
  const number = input("housenumber", current?.housenumber, { maxlength: 30, inputmode: "numeric" });
  const street = input("street", current?.street, { maxlength: 300 });
  const postcode = input("postcode", current?.postcode, { pattern: "\\d{5}", maxlength: 5, inputmode: "numeric" });
  const city = input("city", current?.city, { maxlength: 200 });
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack" },
    field("Adresse affichée", label, "Ce que liront le citoyen, les agents et les applications Open311."),
    field("Numéro", number),
    field("Voie", street),
    field("Code postal", postcode),
    field("Commune", city),
    out,
    h("button", { type: "submit", class: "btn btn-small" }, "Enregistrer l'adresse"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const opt = (el: HTMLInputElement): string | null => el.value.trim() || null;
    try {
      await setAddress(s.id, { label: label.value.trim(), housenumber: opt(number), street: opt(street), postcode: opt(postcode), city: opt(city), citycode: current?.citycode ?? null });
      announce("Adresse corrigée.");
      done();
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Correction impossible."));
    }
  });
  return h("details", { class: "address-fix" }, h("summary", null, "Corriger l'adresse"), form);
}

/** The "Lieu" card of the agent's ticket; zooms the map to the street and shows the
 * other reports around as small grey dots. */
export async function ticketPlace(map: CartoMap, s: Signalement, done: () => void): Promise<HTMLElement | null> {
  const c = s.location?.coordinates;
  if (!c) return null;
  const current = typeof s.address === "string" ? { label: s.address } : (s.address ?? null);
  let around: Around[] = [];
  try {
    around = await loadAround(s.id);
  } catch {
    around = []; // staff-only: a public reader simply sees no list
  }
  map.flyTo([c[0], c[1]], STREET_ZOOM);
  const features = around.map((a) => ({ type: "Feature" as const, properties: { id: a.id }, geometry: a.location }));
  map.addOverlay("around", { around: { type: "geojson", data: { type: "FeatureCollection", features } } }, [
    { id: "around-points", type: "circle", source: "around", paint: { "circle-color": "#6b7280", "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } },
  ]);
  map.setPopup("around-points", (fs) => {
    const id = Number(fs[0].properties?.id);
    return h("a", { href: `/agent/signalements/${id}` }, `Ouvrir le signalement n° ${id}`);
  });
  const zoom = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Zoomer sur la rue");
  zoom.addEventListener("click", () => map.flyTo([c[0], c[1]], STREET_ZOOM));
  const source = current && "source" in current && current.source ? termLabel("address_source", current.source) : null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "place-title", "data-testid": "ticket-place" },
    h("h2", { class: "h4", id: "place-title" }, "Lieu"),
    h("p", { class: "address-line" }, h("strong", null, addressLabel(s.address) ?? "Adresse inconnue"), source ? h("span", { class: "meta" }, ` (${source})`) : null),
    h("p", null,
      h("a", { href: geoUri(c[0], c[1]), class: "btn btn-small", "data-testid": "geo-link" }, "Ouvrir dans une application de navigation"),
      " ", zoom),
    h("h3", { class: "h4" }, "Signalements autour"),
    aroundList(around),
    correctionForm(s, current, done),
  );
}

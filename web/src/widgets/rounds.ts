// "Préparer une tournée": the agent ticks open tickets in the queue (or on the map),
// Carto orders them along the streets from the service's depot; the ordered list,
// the route with numbered stops on the map, a GPX file for a phone and a printable sheet.

import { Marker } from "maplibre-gl";
import { loadDepot, planRound, roundFile, type Round, type RoundQuery } from "../api/rounds";
import { announce, errorBox, h, mount, uid } from "../dom";
import type { CartoMap, LngLat } from "../map";

export interface Selectable {
  id: number;
  service_id: number;
}

const km = (m: number): string => `${(m / 1000).toLocaleString("fr-FR", { maximumFractionDigits: 1 })} km`;

/** Query of the GPX and printable forms: the same round as the one shown. */
function roundQuery(ids: number[], start: LngLat | null, budget: number | null): RoundQuery {
  return { ids: ids.join(","), start_lon: start?.lng ?? null, start_lat: start?.lat ?? null, budget_minutes: budget };
}

function saveAs(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The route and numbered stops on the map (removed at the next view). */
function drawRound(map: CartoMap, round: Round): void {
  map.addOverlay("round", { round: { type: "geojson", data: { type: "Feature", properties: {}, geometry: round.route } } }, [
    { id: "round-line", type: "line", source: "round", paint: { "line-color": "#6d28d9", "line-width": 5, "line-opacity": 0.85 }, layout: { "line-join": "round", "line-cap": "round" } },
  ]);
  const markers = round.stops.map((s) => {
    const el = h("div", { class: "round-marker", role: "img", "aria-label": `Arrêt ${s.rank} : signalement n° ${s.signalement_id}` }, String(s.rank));
    return new Marker({ element: el }).setLngLat([s.location.lon, s.location.lat]).addTo(map.map);
  });
  const depot = h("div", { class: "round-marker round-depot", role: "img", "aria-label": `Départ : ${round.start_name}` }, "D");
  markers.push(new Marker({ element: depot }).setLngLat([round.start.lon, round.start.lat]).addTo(map.map));
  map.addCleanup(() => {
    for (const m of markers) m.remove();
  });
  const xs = round.route.coordinates;
  if (xs.length) map.fit([Math.min(...xs.map((c) => c[0])), Math.min(...xs.map((c) => c[1])), Math.max(...xs.map((c) => c[0])), Math.max(...xs.map((c) => c[1]))], 17);
}

function roundSection(round: Round, ids: number[], start: LngLat | null, budget: number | null): HTMLElement {
  const saving = round.baseline_distance_m > 0 ? Math.round((1 - round.distance_m / round.baseline_distance_m) * 100) : 0;
  const query = roundQuery(ids, start, budget);
  const gpx = h("button", { type: "button", class: "btn" }, "Télécharger le GPX");
  gpx.addEventListener("click", () => {
    roundFile(round.service_id, "gpx", query).then((b) => saveAs(b, `tournee-${round.service_id}.gpx`), (e: Error) => announce(e.message, "error"));
  });
  const print = h("button", { type: "button", class: "btn btn-ghost" }, "Imprimer la feuille de tournée");
  print.addEventListener("click", () => {
    roundFile(round.service_id, "html", query).then(
      (b) => {
        const url = URL.createObjectURL(b);
        if (!window.open(url, "_blank")) saveAs(b, `tournee-${round.service_id}.html`);
      },
      (e: Error) => announce(e.message, "error"),
    );
  });
  return h(
    "section",
    { class: "card round", "aria-labelledby": "round-title", id: "tournee" },
    h("h2", { id: "round-title", tabindex: "-1" }, "Tournée proposée"),
    h(
      "p",
      null,
      `Départ et retour : ${round.start_name}. ${round.stops.length} arrêt${round.stops.length > 1 ? "s" : ""}, ${km(round.distance_m)} par les rues`,
      ` (ordre du plus proche voisin : ${km(round.baseline_distance_m)}${saving > 0 ? `, soit ${saving} % de moins` : ""}), environ ${Math.round(round.duration_minutes)} min.`,
    ),
    h(
      "ol",
      { class: "round-stops", "aria-label": "Arrêts dans l'ordre" },
      round.stops.map((s) =>
        h("li", null, h("a", { href: `/agent/signalements/${s.signalement_id}` }, `n° ${s.signalement_id}`), ` — ${s.category} — ${s.address ?? "adresse non renseignée"}`, h("span", { class: "meta" }, ` (${Math.round(s.leg_m)} m, +${Math.round(s.eta_minutes)} min)`)),
      ),
    ),
    round.set_apart.length
      ? [
          h("h3", { class: "h4" }, "Mis à part"),
          h(
            "ul",
            { class: "round-apart" },
            round.set_apart.map((a) => h("li", null, `n° ${a.signalement_id} — ${a.category}${a.address ? `, ${a.address}` : ""} : ${a.message}`)),
          ),
        ]
      : null,
    h("p", { class: "actions" }, gpx, " ", print),
  );
}

/** The "Préparer une tournée" form; `selected` gives the ticked tickets at submit time,
 * `refresh` updates the count when the selection changes. */
export function roundForm(map: CartoMap, selected: () => Selectable[], out: HTMLElement): { form: HTMLElement; refresh: () => void } {
  const budget = h("input", { type: "number", name: "budget_minutes", id: uid("r"), min: 10, max: 1440, step: 5, inputmode: "numeric" });
  const count = h("p", { class: "meta", "aria-live": "polite" }, "Aucun signalement coché.");
  const form = h(
    "form",
    { class: "round-form card", "aria-labelledby": "round-form-title" },
    h("h2", { class: "h4", id: "round-form-title" }, "Préparer une tournée"),
    h("p", { class: "hint" }, "Cochez des signalements ouverts d'un même service dans la file ou sur la carte ; Carto les ordonne par les rues depuis le dépôt du service."),
    count,
    h("div", { class: "field" }, h("label", { for: budget.id }, "Temps disponible en minutes (facultatif)"), budget),
    h("button", { type: "submit", class: "btn" }, "Préparer une tournée"),
  );
  const refresh = (): void => {
    const n = selected().length;
    count.textContent = n ? `${n} signalement${n > 1 ? "s" : ""} coché${n > 1 ? "s" : ""}.` : "Aucun signalement coché.";
  };
  const run = async (ids: number[], serviceId: number, start: LngLat | null): Promise<void> => {
    const minutes = budget.value ? Number(budget.value) : null;
    try {
      const round = await planRound(serviceId, { signalement_ids: ids, budget_minutes: minutes, start: start ? { lon: start.lng, lat: start.lat } : null });
      mount(out, roundSection(round, ids, start, minutes));
      drawRound(map, round);
      (out.querySelector("#round-title") as HTMLElement | null)?.focus();
      announce(`Tournée de ${round.stops.length} arrêts prête.`);
    } catch (e) {
      mount(out, errorBox(e instanceof Error ? e.message : String(e)));
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const picked = selected();
    const services = [...new Set(picked.map((p) => p.service_id))];
    if (!picked.length) return mount(out, errorBox("Cochez au moins un signalement ouvert."));
    if (services.length > 1) return mount(out, errorBox("Choisissez des signalements d'un seul service."));
    const ids = picked.map((p) => p.id);
    void loadDepot(services[0]).then(
      async (depot) => {
        if (depot) return run(ids, services[0], null);
        mount(out, h("p", { class: "alert", role: "status" }, "Ce service n'a pas de dépôt : cliquez sur la carte pour choisir le point de départ."));
        map.setClickHandler((at) => {
          map.setClickHandler(null);
          void run(ids, services[0], at);
        });
      },
      (e: Error) => mount(out, errorBox(e.message)),
    );
  });
  refresh();
  return { form, refresh };
}

// A report's summary, timeline and map marker, shared by the public follow-up page
// and the agent's ticket.

import { addressLabel, type HistoryEntry, type Photo, type Signalement } from "../api/signalements";
import { categoryLabel } from "../api/categories";
import { termLabel, terms } from "../api/vocabulary";
import { formatDateTime, formatDay, h } from "../dom";
import { capitalize, stateLabel } from "../labels";
import type { CartoMap } from "../map";
import { explanationOf, nameOf } from "./report_context";

export function photosOf(s: Signalement): Photo[] {
  if (s.photos?.length) return s.photos;
  if (typeof s.photo === "string") return [{ url: s.photo }];
  if (s.photo) return [s.photo];
  if (s.photo_url) return [{ url: s.photo_url }];
  return [];
}

export function timeline(history: HistoryEntry[] | undefined): HTMLElement {
  const entries = [...(history ?? [])].sort((a, b) => a.at.localeCompare(b.at));
  if (!entries.length) return h("p", null, "Aucun changement d'état pour l'instant.");
  return h(
    "ol",
    { class: "timeline", "data-testid": "timeline" },
    entries.map((e) =>
      h(
        "li",
        { "data-state": e.state },
        h("span", { class: `badge state-${e.state}` }, capitalize(e.label ?? stateLabel(e.state))),
        e.event && terms("signalement_event").some((t) => t.code === e.event) ? ` ${termLabel("signalement_event", e.event)}${e.to_service ? ` à ${e.to_service}` : ""}` : "",
        " ",
        h("time", { datetime: e.at }, formatDateTime(e.at)),
        e.actor ? h("span", { class: "meta" }, ` par ${e.actor}`) : null,
        e.note ? h("p", { class: "note" }, e.note) : null,
        e.internal_note ? h("p", { class: "note meta" }, `Note interne : ${e.internal_note}`) : null,
      ),
    ),
  );
}

/** Marker on the report's location and zoom to it. */
export function locate(map: CartoMap, s: Signalement): void {
  const c = s.location?.coordinates;
  if (!c) return;
  map.setMarker({ lng: c[0], lat: c[1] });
  map.flyTo([c[0], c[1]], 16);
}

export async function signalementSummary(s: Signalement): Promise<HTMLElement[]> {
  const why = explanationOf(s.explanation);
  const photos = photosOf(s);
  return [
    h(
      "dl",
      { class: "facts" },
      h("dt", null, "Catégorie"),
      h("dd", null, s.category ?? (await categoryLabel(s.service_code))),
      h("dt", null, "État"),
      h("dd", null, h("span", { class: `badge state-${s.state}`, "data-testid": "state" }, capitalize(s.state_label ?? stateLabel(s.state)))),
      h("dt", null, "Traité par"),
      h("dd", null, [nameOf(s.authority), nameOf(s.service)].filter(Boolean).join(" — ") || "—"),
      nameOf(s.commune) ? [h("dt", null, "Commune"), h("dd", null, nameOf(s.commune))] : null,
      addressLabel(s.address) ? [h("dt", null, "Adresse"), h("dd", { "data-testid": "address" }, addressLabel(s.address))] : null,
      s.duplicate_of
        ? [h("dt", null, "Doublon de"), h("dd", null, h("a", { href: `/suivi/${s.duplicate_of}` }, `n° ${s.duplicate_of}`))]
        : null,
      s.created_at ? [h("dt", null, "Signalé le"), h("dd", null, formatDateTime(s.created_at))] : null,
      s.due_at ? [h("dt", null, "Traitement attendu d'ici le"), h("dd", { "data-testid": "due" }, formatDay(s.due_at), s.overdue ? h("strong", { class: "late" }, " (délai dépassé)") : "")] : null,
      s.supports ? [h("dt", null, "Soutiens"), h("dd", null, String(s.supports))] : null,
    ),
    s.description ? h("p", { class: "description" }, s.description) : h("span"),
    why.length ? h("p", { class: "why", "data-testid": "why" }, h("strong", null, "Pourquoi ce service : "), why.join(" ")) : h("span"),
    ...photos.map((p) =>
      h("a", { href: p.url, class: "photo-link", target: "_blank", rel: "noopener" },
        h("img", { src: p.thumbnail_url ?? p.url, alt: "Photo jointe au signalement", class: "thumb" })),
    ),
  ];
}

// Following a report: its public page (state, timeline, who handles it and
// why), and "mes signalements" for a signed-in citizen.

import { api, ApiError, itemsOf } from "../api";
import { categoryLabel } from "../categories";
import { errorBox, field, formatAge, formatDateTime, formatDay, h, mount, uid } from "../dom";
import { stateLabel } from "../labels";
import type { CartoMap } from "../map";
import { setFlash, takeFlash } from "../forms";
import { heading, navigate, type ViewContext } from "../router";
import { me } from "../session";
import { explanationOf, nameOf } from "./report_context";

export interface HistoryEntry {
  state: string;
  label?: string;
  at: string;
  note?: string | null;
  event?: string;
  internal_note?: string | null;
  actor?: string | null;
  to_service?: string | null;
}

const EVENT_LABELS: Record<string, string> = { transfer: "Transféré", merge: "Fusionné", support: "Soutenu" };

function capitalize(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

export interface Photo {
  url: string;
  thumbnail_url?: string | null;
}

export interface Signalement {
  id: number | string;
  reference?: string;
  state: string;
  state_label?: string;
  category?: string;
  service_code: string;
  authority?: string | { name?: string };
  service?: string | { name?: string };
  location?: { type: "Point"; coordinates: [number, number] };
  history?: HistoryEntry[];
  explanation?: unknown;
  description?: string | null;
  created_at?: string;
  due_at?: string | null;
  commune?: string | { name?: string } | null;
  photos?: Photo[];
  photo?: Photo | string | null;
  photo_url?: string | null;
  supports?: number;
  address?: string | null;
  duplicate_of?: number | null;
}

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
        e.event && EVENT_LABELS[e.event] ? ` ${EVENT_LABELS[e.event]}${e.to_service ? ` à ${e.to_service}` : ""}` : "",
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
      s.address ? [h("dt", null, "Adresse"), h("dd", null, s.address)] : null,
      s.duplicate_of
        ? [h("dt", null, "Doublon de"), h("dd", null, h("a", { href: `/suivi/${s.duplicate_of}` }, `n° ${s.duplicate_of}`))]
        : null,
      s.created_at ? [h("dt", null, "Signalé le"), h("dd", null, formatDateTime(s.created_at))] : null,
      s.supports ? [h("dt", null, "Soutiens"), h("dd", null, String(s.supports))] : null,
    ),
    s.description ? h("p", { class: "description" }, s.description) : h("span"),
    why.length ? h("p", { class: "why" }, h("strong", null, "Pourquoi ce service : "), why.join(" ")) : h("span"),
    ...photos.map((p) =>
      h("a", { href: p.url, class: "photo-link", target: "_blank", rel: "noopener" },
        h("img", { src: p.thumbnail_url ?? p.url, alt: "Photo jointe au signalement", class: "thumb" })),
    ),
  ];
}

/** States a reporter may reopen from (within the delay the server enforces). */
const REOPENABLE = new Set(["resolved", "rejected"]);

/** "Rouvrir": the citizen who filed a resolved or rejected report says the problem is back. */
function reopenForm(id: number | string, after: string): HTMLElement {
  const note = h("textarea", { name: "note", rows: 2, maxlength: 2000, id: uid("reopen") });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "stack" }, field("Ce qui ne va toujours pas", note, "Facultatif ; ce texte sera public sur la page de suivi."), out,
    h("button", { type: "submit", class: "btn btn-small" }, `Rouvrir le signalement n° ${id}`));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/v1/signalements/${encodeURIComponent(String(id))}/transitions`, { method: "POST", json: { to: "reopened", note: note.value.trim() || null } });
      setFlash(`Le signalement n° ${id} est rouvert : le service en est informé.`);
      navigate(after, true);
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Réouverture impossible."));
    }
  });
  return h("details", { class: "reopen" }, h("summary", null, "Le problème persiste ? Rouvrir"), form);
}

/** The signed-in citizen's own report, if this is one (they may reopen it). */
async function isMine(id: string): Promise<boolean> {
  if (!me()) return false;
  try {
    return itemsOf<MyItem>(await api("/api/v1/me/signalements")).some((s) => String(s.id) === id);
  } catch {
    return false;
  }
}

export async function followView({ panel, map, params }: ViewContext): Promise<void> {
  const id = params.id;
  const s = await api<Signalement>(`/api/v1/signalements/${encodeURIComponent(id)}`);
  locate(map, s);
  const mine = REOPENABLE.has(s.state) && (await isMine(String(s.id)));
  mount(
    panel,
    heading(`Signalement n° ${s.reference ?? s.id}`),
    takeFlash(),
    ...(await signalementSummary(s)),
    mine ? reopenForm(s.id, `/suivi/${encodeURIComponent(String(s.id))}`) : null,
    h("h2", null, "Historique"),
    timeline(s.history),
    h("p", { class: "muted" }, "Cette page est publique : elle ne montre aucune donnée personnelle."),
  );
}

interface MyItem {
  id: number | string;
  state: string;
  service_code: string;
  created_at?: string;
  description?: string;
}

export async function myReportsView({ panel }: ViewContext): Promise<void> {
  if (!me()) {
    navigate(`/connexion?next=${encodeURIComponent("/mes-signalements")}`, true);
    return;
  }
  const items = itemsOf<MyItem>(await api("/api/v1/me/signalements"));
  const rows = await Promise.all(
    items.map(async (s) =>
      h(
        "li",
        { class: "card" },
        h("a", { href: `/suivi/${encodeURIComponent(String(s.id))}` }, `n° ${s.id} — ${await categoryLabel(s.service_code)}`),
        h("p", null, h("span", { class: `badge state-${s.state}` }, stateLabel(s.state)),
          s.created_at ? ` signalé le ${formatDay(s.created_at)} (${formatAge(s.created_at)})` : ""),
        REOPENABLE.has(s.state) ? reopenForm(s.id, "/mes-signalements") : null,
      ),
    ),
  );
  mount(
    panel,
    heading("Mes signalements"),
    takeFlash(),
    rows.length ? h("ul", { class: "plain-list" }, rows) : h("p", null, "Vous n'avez encore rien signalé. ", h("a", { href: "/signaler" }, "Signaler un problème")),
  );
}

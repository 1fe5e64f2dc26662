// Agents: the queue of their service (filters, oldest first) and the ticket
// (map, photo, history, explanation, transitions, transfer, merge).

import { api, itemsOf } from "../api/client";
import { categories } from "../api/categories";
import { formatAge, formatDay, h, mount, uid } from "../dom";
import { STATE_COLORS, stateLabel } from "../labels";
import { heading, navigate, type ViewContext } from "../router";
import { isAgent, me } from "../session";
import type { QueueItem, Signalement } from "../api/signalements";
import { nameOf } from "../widgets/report_context";
import { roundForm } from "../widgets/rounds";
import { locate, signalementSummary, timeline } from "../widgets/signalement";
import { mergeForm, transferForm, transitionForm } from "../widgets/ticket_actions";
import { ticketPlace } from "../widgets/ticket_place";
import type { Reporter } from "../api/signalements";
import { isOpenCode } from "../api/vocabulary";

const QUEUE_STATES = ["routed", "acknowledged", "in_progress", "reopened", "resolved", "rejected", "duplicate"];

function requireAgent(path: string): boolean {
  if (me() && isAgent()) return true;
  navigate(`/connexion?next=${encodeURIComponent(path)}`, true);
  return false;
}

function select(name: string, label: string, options: [string, string][], value: string | null): HTMLElement {
  const el = h("select", { name, id: uid("q") }, h("option", { value: "" }, "Tous"), options.map(([v, l]) => h("option", { value: v, selected: v === value }, l)));
  return h("div", { class: "field" }, h("label", { for: el.id }, label), el);
}

function isOverdue(it: QueueItem): boolean {
  return it.overdue ?? (!!it.due_at && new Date(it.due_at).getTime() < Date.now() && !["resolved", "rejected"].includes(it.state));
}

export async function agentQueueView({ panel, map, query }: ViewContext): Promise<void> {
  if (!requireAgent("/agent")) return;
  const cats = await categories();
  const filters = {
    state: query.get("state"),
    service_code: query.get("service_code"),
    commune: query.get("commune"),
    overdue: query.get("overdue") === "true" ? "true" : null,
  };
  const items = itemsOf<QueueItem>(await api("/api/v1/signalements", { query: { ...filters, limit: 200 } }));
  items.sort((a, b) => a.created_at.localeCompare(b.created_at));

  const overdue = h("input", { type: "checkbox", name: "overdue", value: "true", id: uid("q"), checked: !!filters.overdue });
  const commune = h("input", { type: "text", name: "commune", id: uid("q"), value: filters.commune ?? "" });
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filtres de la file" },
    select("state", "État (ouverts par défaut)", QUEUE_STATES.map((s) => [s, stateLabel(s)]), filters.state),
    select("service_code", "Catégorie", cats.map((c) => [c.code, c.label]), filters.service_code),
    h("div", { class: "field" }, h("label", { for: commune.id }, "Commune"), commune),
    h("label", { for: overdue.id, class: "check" }, overdue, " En retard seulement"),
    h("button", { type: "submit", class: "btn btn-small" }, "Filtrer"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) params.set(k, String(v));
    navigate(`/agent${params.toString() ? `?${params}` : ""}`);
  });

  const features = items.filter((i) => i.location).map((i) => ({ type: "Feature" as const, properties: { id: i.id, state: i.state }, geometry: i.location! }));
  map.addOverlay("queue", { queue: { type: "geojson", data: { type: "FeatureCollection", features } } }, [
    { id: "queue-points", type: "circle", source: "queue", paint: { "circle-color": ["match", ["get", "state"], ...Object.entries(STATE_COLORS).flat(), "#1d4f91"] as never, "circle-radius": 7, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } },
  ]);
  if (features.length) {
    const xs = features.map((f) => f.geometry.coordinates);
    map.fit([Math.min(...xs.map((c) => c[0])), Math.min(...xs.map((c) => c[1])), Math.max(...xs.map((c) => c[0])), Math.max(...xs.map((c) => c[1]))], 15);
  }
  // Tickets ticked for a round: checkboxes in the table, or the map popup's button.
  const picked = new Set<number>();
  const roundOut = h("div", { id: "round-result" });
  const selected = () => items.filter((i) => picked.has(Number(i.id)) && i.service_id !== undefined).map((i) => ({ id: Number(i.id), service_id: i.service_id as number }));
  const round = roundForm(map, selected, roundOut);
  const boxes = new Map<number, HTMLInputElement>();
  const toggle = (id: number, on: boolean): void => {
    if (on) picked.add(id);
    else picked.delete(id);
    const box = boxes.get(id);
    if (box) box.checked = on;
    round.refresh();
  };
  map.setPopup("queue-points", (fs) => {
    const id = Number(fs[0].properties?.id);
    const item = items.find((i) => Number(i.id) === id);
    const add = item && isOpenCode("signalement_state", item.state) ? h("button", { type: "button", class: "btn btn-small btn-ghost" }, picked.has(id) ? "Retirer de la tournée" : "Ajouter à la tournée") : null;
    add?.addEventListener("click", () => {
      toggle(id, !picked.has(id));
      add.textContent = picked.has(id) ? "Retirer de la tournée" : "Ajouter à la tournée";
    });
    return h("div", null, h("a", { href: `/agent/signalements/${id}` }, `Ouvrir le signalement n° ${id}`), add ? h("br") : null, add);
  });
  map.setListProvider(() => ({ title: "Signalements de la file", items: items.map((i) => h("a", { href: `/agent/signalements/${i.id}` }, `n° ${i.id} — ${stateLabel(i.state)}`)) }));

  const pickBox = (i: QueueItem): HTMLElement | null => {
    if (!isOpenCode("signalement_state", i.state)) return null;
    const box = h("input", { type: "checkbox", name: "tournee", value: String(i.id), "aria-label": `Ajouter le n° ${i.id} à la tournée` });
    box.addEventListener("change", () => toggle(Number(i.id), box.checked));
    boxes.set(Number(i.id), box);
    return box;
  };
  const rows = items.map((i) =>
    h(
      "tr",
      { class: isOverdue(i) ? "overdue" : null },
      h("td", null, pickBox(i)),
      h("td", null, h("a", { href: `/agent/signalements/${i.id}` }, `n° ${i.id}`)),
      h(
        "td",
        null,
        h("strong", null, i.category ?? i.service_code),
        h("br"),
        i.address || nameOf(i.commune),
        i.summary ? h("span", { class: "meta clamp" }, ` — ${i.summary}`) : "",
      ),
      h("td", null, h("span", { class: `badge state-${i.state}` }, stateLabel(i.state))),
      h(
        "td",
        null,
        formatAge(i.created_at),
        i.due_at ? h("br") : "",
        i.due_at ? h("span", { class: "meta" }, `échéance ${formatDay(i.due_at)}`) : "",
        isOverdue(i) ? h("strong", { class: "late" }, " en retard") : "",
      ),
    ),
  );
  mount(
    panel,
    heading("File des signalements"),
    h("p", { class: "muted" }, "Les signalements de votre service, du plus ancien au plus récent."),
    form,
    items.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "queue" },
            h("caption", null, `${items.length} signalement${items.length > 1 ? "s" : ""}`),
            h("thead", null, h("tr", null, ["Tournée", "Réf.", "Signalement", "État", "Âge"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", null, rows),
          ),
        )
      : h("p", null, "Aucun signalement ne correspond à ces filtres."),
    items.length ? round.form : null,
    roundOut,
  );
}

/** The reporter's contact, shown to the service's staff only (the API decides). */
function reporterBlock(r: Reporter | null | undefined): HTMLElement | null {
  if (!r) return null;
  const name = [r.first_name, r.last_name].filter(Boolean).join(" ");
  return h(
    "section",
    { class: "card", "aria-labelledby": "reporter-title" },
    h("h2", { class: "h4", id: "reporter-title" }, "Contact du déclarant (non public)"),
    h("p", null, name || "Nom non donné", " · ", r.email ? h("a", { href: `mailto:${r.email}` }, r.email) : "pas d'e-mail",
      r.has_account ? " · a un compte" : ""),
  );
}

export async function ticketView(ctx: ViewContext): Promise<void> {
  const { panel, map, params } = ctx;
  if (!requireAgent(`/agent/signalements/${params.id}`)) return;
  const s = await api<Signalement & { reporter?: Reporter | null }>(`/api/v1/signalements/${encodeURIComponent(params.id)}`);
  locate(map, s);
  const reload = (): void => navigate(`/agent/signalements/${params.id}`, true);
  mount(
    panel,
    h("p", { class: "crumb" }, h("a", { href: "/agent" }, "Retour à la file")),
    heading(`Signalement n° ${s.reference ?? s.id}`),
    ...(await signalementSummary(s)),
    await ticketPlace(map, s, reload),
    reporterBlock(s.reporter),
    h("h2", null, "Historique"),
    timeline(s.history),
    h("h2", null, "Traiter"),
    transitionForm(s, reload),
    transferForm(s, reload),
    mergeForm(s, reload),
    h("p", null, h("a", { href: `/suivi/${encodeURIComponent(String(s.id))}` }, "Voir la page publique")),
  );
}

// Agents: the queue of their service (filters, oldest first) and the ticket
// (map, photo, history, explanation, transitions, transfer, merge).

import { categories } from "../api/categories";
import { formatAge, formatDay, h, mount, uid } from "../dom";
import { STATE_COLORS, stateLabel } from "../labels";
import { heading, navigate, type ViewContext } from "../router";
import { isAgent, me } from "../session";
import { loadQueue, loadSignalement, type QueueItem } from "../api/signalements";
import { nameOf } from "../widgets/report_context";
import { orientationSection } from "../widgets/orientation";
import { roundForm } from "../widgets/rounds";
import { locate, signalementSummary, timeline } from "../widgets/signalement";
import { mergeForm, transferForm, transitionForm } from "../widgets/ticket_actions";
import { mountSearch } from "../widgets/search";
import { ticketPlace } from "../widgets/ticket_place";
import type { Reporter } from "../api/signalements";
import { isOpenCode } from "../api/vocabulary";

/** The queue's orders (the server's `sort`), the default first; kept in the URL. */
const SORTS: [string, string][] = [
  ["oldest", "Plus anciens d'abord (par défaut)"],
  ["newest", "Plus récents d'abord"],
  ["deadline", "Échéance la plus proche"],
];
const SORT_SENTENCES: Record<string, string> = {
  oldest: "du plus ancien au plus récent",
  newest: "du plus récent au plus ancien",
  deadline: "de l'échéance la plus proche à la plus lointaine",
};
/** Every state, open and closed (the server's statuses). */
const ALL_STATES = "open,closed";
const QUEUE_STATES = ["routed", "acknowledged", "in_progress", "reopened", "resolved", "rejected", "duplicate"];

function requireAgent(path: string): boolean {
  if (me() && isAgent()) return true;
  navigate(`/connexion?next=${encodeURIComponent(path)}`, true);
  return false;
}

/** A filter select whose empty option names what the server does by default. */
function select(name: string, label: string, options: [string, string][], value: string | null, empty = "Toutes"): HTMLElement {
  const el = h("select", { name, id: uid("q") }, h("option", { value: "" }, empty), options.map(([v, l]) => h("option", { value: v, selected: v === value }, l)));
  return h("div", { class: "field" }, h("label", { for: el.id }, label), el);
}

function isOverdue(it: QueueItem): boolean {
  return it.overdue ?? (!!it.due_at && new Date(it.due_at).getTime() < Date.now() && !["resolved", "rejected"].includes(it.state));
}

export async function agentQueueView({ panel, map, query }: ViewContext): Promise<void> {
  if (!requireAgent("/agent")) return;
  mountSearch(map);
  const cats = await categories();
  const filters = {
    state: query.get("state"),
    service_code: query.get("service_code"),
    commune: query.get("commune"),
    overdue: query.get("overdue") === "true" ? "true" : null,
    sort: SORTS.some(([v]) => v === query.get("sort")) ? query.get("sort") : null,
  };
  const items = await loadQueue({ ...filters, limit: 200 });

  const overdue = h("input", { type: "checkbox", name: "overdue", value: "true", id: uid("q"), checked: !!filters.overdue });
  const commune = h("input", { type: "text", name: "commune", id: uid("q"), value: filters.commune ?? "" });
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filtres de la file" },
    select("state", "État", [[ALL_STATES, "Tous les états"], ...QUEUE_STATES.map((s): [string, string] => [s, stateLabel(s)])], filters.state, "Ouverts (par défaut)"),
    select("service_code", "Catégorie", cats.map((c) => [c.code, c.label]), filters.service_code),
    select("sort", "Tri", SORTS.slice(1), filters.sort, SORTS[0][1]),
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
      h("td", { "data-label": "Tournée" }, pickBox(i)),
      h("td", { "data-label": "Réf." }, h("a", { href: `/agent/signalements/${i.id}` }, `n° ${i.id}`)),
      h(
        "td",
        { "data-label": "Signalement" },
        h("strong", null, i.category ?? i.service_code),
        h("br"),
        i.address || nameOf(i.commune),
        i.summary ? h("span", { class: "meta clamp" }, ` — ${i.summary}`) : "",
      ),
      h("td", { "data-label": "État" }, h("span", { class: `badge state-${i.state}` }, stateLabel(i.state))),
      h(
        "td",
        { "data-label": "Âge" },
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
    h("p", { class: "muted" }, `Les signalements de votre service, ${SORT_SENTENCES[filters.sort ?? "oldest"]}.`),
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
    await orientationSection(() => navigate("/agent", true)),
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
  const s = await loadSignalement(params.id);
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
    ...(s.may_act
      ? [transitionForm(s, reload), transferForm(s, reload), mergeForm(s, reload)]
      : [h("p", { class: "alert", "data-testid": "not-yours" }, `Ce signalement est traité par ${[nameOf(s.service), nameOf(s.authority)].filter(Boolean).join(", ") || "un autre service"} : seuls ses agents et les administrateurs de sa collectivité peuvent le faire avancer.`)]),
    h("p", null, h("a", { href: `/suivi/${encodeURIComponent(String(s.id))}` }, "Voir la page publique")),
  );
}

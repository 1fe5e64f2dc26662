// The moderation queue: texts held by the personal-data check, items citizens
// reported, contributions flagged as a possible campaign. Each action is logged
// by the server and closes the item's open reports.

import { ApiError } from "../api/client";
import { errorBox, field, formatDateTime, h, mount, uid } from "../dom";
import { requireRole, setFlash, takeFlash } from "../forms";
import { heading, navigate, type ViewContext } from "../router";
import { loadConcertations } from "../api/concertations";
import { loadModerationQueue, moderate, type ModerationAction, type ModerationItem } from "../api/moderation";

const VISIBILITY: Record<string, string> = { published: "Publié", held: "Retenu", hidden: "Masqué" };

function actions(item: ModerationItem, done: (msg: string) => void): HTMLElement {
  const reason = h("textarea", { name: "reason", rows: 2, maxlength: 1000 });
  const out = h("div", { "aria-live": "polite" });
  const what = item.target === "contribution" ? "la contribution" : "le commentaire";
  const act = async (action: ModerationAction, label: string): Promise<void> => {
    try {
      await moderate(item.target, item.id, action, reason.value.trim());
      done(`${label} : ${item.title ?? `commentaire n° ${item.id}`}.`);
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Action impossible."));
    }
  };
  const button = (action: ModerationAction, label: string, text: string, ghost = false): HTMLButtonElement =>
    h("button", { type: "button", class: `btn btn-small${ghost ? " btn-ghost" : ""}`, "aria-label": `${text} ${what} « ${item.title ?? item.id} »`, onclick: () => void act(action, label) }, text);
  return h(
    "div",
    { class: "stack" },
    field("Motif public", reason, "Obligatoire pour masquer ; il remplace le texte masqué."),
    out,
    h(
      "div",
      { class: "row" },
      item.visibility !== "hidden" ? button("hide", "Masqué", "Masquer") : button("restore", "Rétabli", "Rétablir"),
      item.visibility === "held" ? button("release", "Publié", "Publier") : null,
      item.target === "contribution" && item.flags.length ? button("clear_flags", "Marques levées", "Lever les marques", true) : null,
    ),
  );
}

function card(item: ModerationItem, done: (msg: string) => void): HTMLElement {
  const titleId = uid("mod");
  return h(
    "article",
    { class: "card", "aria-labelledby": titleId, "data-id": String(item.id), "data-target": item.target },
    h("h3", { id: titleId, class: "h4" }, item.target === "contribution" ? item.title ?? "(sans titre)" : `Commentaire n° ${item.id}`),
    h("p", { class: "meta" }, `${VISIBILITY[item.visibility]} · ${item.author} · ${formatDateTime(item.created_at)} · `,
      h("a", { href: `/concertations/${encodeURIComponent(item.concertation)}` }, item.concertation)),
    h("p", { class: "clamp" }, item.body),
    item.hold_reason ? h("p", null, h("strong", null, "Retenu : "), item.hold_reason) : null,
    item.reports ? h("p", null, h("strong", null, `${item.reports} signalement${item.reports > 1 ? "s" : ""} : `), item.report_reasons.join(" ; ")) : null,
    item.flag_labels.length ? h("p", null, h("strong", null, "Marques : "), item.flag_labels.join(" ; ")) : null,
    actions(item, done),
  );
}

function section(title: string, items: ModerationItem[], done: (msg: string) => void, empty: string): HTMLElement {
  const id = uid("sec");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, `${title} (${items.length})`),
    items.length ? items.map((i) => card(i, done)) : h("p", { class: "muted" }, empty));
}

export async function moderationView({ panel, query }: ViewContext): Promise<void> {
  if (!requireRole("/moderation", "moderator", "admin")) return;
  const selected = query.get("concertation") ?? "";
  const [queue, concertations] = await Promise.all([
    loadModerationQueue(selected || null),
    loadConcertations(),
  ]);
  const here = window.location.pathname + window.location.search;
  const done = (msg: string): void => {
    setFlash(msg);
    navigate(here, true);
  };
  const pick = h("select", { name: "concertation", id: uid("f") }, h("option", { value: "" }, "Toutes"),
    concertations.map((c) => h("option", { value: String(c.id), selected: String(c.id) === selected }, c.title)));
  const filters = h("form", { class: "filters", "aria-label": "Filtrer la file de modération" },
    h("div", { class: "field" }, h("label", { for: pick.id }, "Concertation"), pick), h("button", { type: "submit", class: "btn btn-small" }, "Filtrer"));
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    navigate(`/moderation${pick.value ? `?concertation=${pick.value}` : ""}`);
  });
  mount(
    panel,
    heading("Modération"),
    takeFlash(),
    h("p", { class: "muted" }, "Du plus ancien au plus récent. Chaque décision est journalisée et clôt les signalements de l'élément."),
    filters,
    section("Signalés par des participants", queue.reported, done, "Aucun élément signalé."),
    section("Retenus avant publication", queue.held, done, "Aucun texte retenu."),
    section("Marqués (campagne possible)", queue.flagged, done, "Aucune contribution marquée."),
  );
}

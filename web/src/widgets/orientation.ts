// The « à orienter » queue (administrators): tickets routed only by a legal default or
// to an authority that does not use Carto; confirm the routing or send it elsewhere.

import { ApiError } from "../api/client";
import { loadQueue, orient, type QueueItem } from "../api/signalements";
import { loadServiceOptions } from "../api/routing";
import { announce, errorBox, formatAge, h, mount } from "../dom";
import { nameOf } from "./report_context";


function rerouteForm(item: QueueItem, out: HTMLElement, done: () => void): HTMLElement {
  const service = h("select", { name: "service_id", required: true, "aria-label": "Service destinataire" }, h("option", { value: "" }, "Choisir un service"));
  const reason = h("input", { type: "text", name: "reason", required: true, maxlength: 2000, "aria-label": "Motif (visible par le citoyen)", placeholder: "Motif (visible par le citoyen)" });
  const box = h("details", null, h("summary", null, "Réorienter"));
  box.addEventListener("toggle", () => {
    if (!box.open || service.options.length > 1) return;
    void loadServiceOptions()
      .then((options) => service.append(...options.filter((o) => o.id !== item.service_id).map((o) => h("option", { value: String(o.id) }, `${o.authority ?? ""} — ${o.name}`))))
      .catch(() => mount(out, errorBox("Liste des services indisponible.")));
  });
  const send = h("button", { type: "button", class: "btn btn-small" }, "Réorienter");
  send.addEventListener("click", () => {
    orient(item.id, { action: "reroute", service_id: Number(service.value) || null, reason: reason.value.trim() || null })
      .then(() => { announce(`Signalement n° ${item.id} réorienté.`); done(); })
      .catch((err) => mount(out, errorBox(err instanceof ApiError ? err.message : "Action impossible.")));
  });
  box.append(service, reason, send);
  return box;
}

/** The section, or null for callers who administer nothing (the API answers 403). */
export async function orientationSection(done: () => void): Promise<HTMLElement | null> {
  let items: QueueItem[];
  try {
    items = await loadQueue({ a_orienter: "true", limit: 100 });
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return null;
    return h("section", { class: "card" }, errorBox(err instanceof ApiError ? err.message : "File « à orienter » indisponible."));
  }
  const rows = items.map((i) => {
    const out = h("div", { "aria-live": "polite" });
    const confirm = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Confirmer l'orientation");
    confirm.addEventListener("click", () => {
      orient(i.id, { action: "confirm" })
        .then(() => { announce(`Orientation du n° ${i.id} confirmée.`); done(); })
        .catch((err) => mount(out, errorBox(err instanceof ApiError ? err.message : "Action impossible.")));
    });
    return h(
      "li",
      null,
      h("a", { href: `/agent/signalements/${i.id}` }, `n° ${i.id}`),
      ` — ${i.category ?? i.service_code}, `, nameOf(i.commune), ` (${formatAge(i.created_at)})`,
      " ", confirm, rerouteForm(i, out, done), out,
    );
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "orientation-title" },
    h("h2", { class: "h4", id: "orientation-title" }, `À orienter (${items.length})`),
    h("p", { class: "muted" }, "Signalements transmis selon une règle par défaut ou à une collectivité qui n'utilise pas Carto : confirmez ou réorientez."),
    items.length ? h("ul", null, rows) : h("p", null, "Rien à orienter."),
  );
}

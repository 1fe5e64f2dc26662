// What the report form shows once place and category are known: who will
// receive the report and why, and open reports nearby to support instead.

import { errorBox, formatDay, h, mount } from "../dom";
import { icon } from "../icons";
import { stateLabel } from "../labels";
import type { LngLat } from "../map";
import { me } from "../session";
import { addSupport, loadNearby, type Nearby } from "../api/signalements";
import { loadPreview, type Informed, type Named } from "../api/routing";

/** A name from a field that may be a string or an object with a name. */
export function nameOf(x: Named): string {
  if (!x) return "";
  if (typeof x === "string") return x;
  return x.name ?? x.nom ?? x.label ?? "";
}

/** Explanation given as a sentence, a list of sentences or a list of steps. */
export function explanationOf(x: unknown): string[] {
  if (!x) return [];
  if (typeof x === "string") return [x];
  if (Array.isArray(x)) return x.flatMap((e) => explanationOf(e));
  if (typeof x === "object") {
    const o = x as Record<string, unknown>;
    for (const key of ["text", "summary", "message", "reason", "sentence"]) {
      if (typeof o[key] === "string") return [o[key] as string];
    }
    if (Array.isArray(o.steps)) return explanationOf(o.steps);
  }
  return [];
}

export async function previewBlock(at: LngLat, code: string): Promise<HTMLElement> {
  try {
    const p = await loadPreview(at.lng, at.lat, code);
    const who = p.agency_responsible ?? [nameOf(p.authority), nameOf(p.service)].filter(Boolean).join(" — ");
    const why = explanationOf(p.explanation);
    return h(
      "section",
      { class: "card card-info", "aria-labelledby": "preview-title", "data-testid": "routing-preview" },
      h("h2", { class: "h3", id: "preview-title" }, "Qui va le recevoir ?"),
      deliveryLine(p.delivery, who),
      why.length ? h("p", { class: "why" }, h("span", { class: "sr-label" }, "Pourquoi : "), why.join(" ")) : null,
      informedBlock(p.informed ?? []),
    );
  } catch (err) {
    return refusal(err instanceof Error ? err.message : "Service compétent introuvable.");
  }
}

/** Who gets the report, honestly: by e-mail to a front desk, or nobody yet (it waits in
 * the platform's « à orienter » queue; the explanation below says why). */
function deliveryLine(delivery: string | undefined, who: string): HTMLElement {
  if (delivery === "queue") {
    return h("p", { "data-testid": "delivery" }, "Ce signalement ne peut pas encore être transmis automatiquement : il attendra dans la file « à orienter », où les administrateurs de la plateforme l'adresseront au bon interlocuteur.");
  }
  const how = delivery === "email" ? "sera transmis par e-mail à " : "sera transmis à ";
  return h("p", { "data-testid": "delivery" }, `Ce signalement ${how}`, h("strong", null, who || "un service compétent"), ".");
}

/** Services that get a copy, each with the rule's reason when it gives one. */
function informedBlock(informed: Informed[]): HTMLElement | null {
  if (!informed.length) return null;
  return h(
    "div",
    { "data-testid": "informed" },
    h("p", null, "Pour information, une copie est adressée à :"),
    h(
      "ul",
      null,
      informed.map((i) =>
        h("li", null, h("strong", null, i.name), `, ${i.authority}`, i.reason ? h("span", { class: "reason" }, ` — motif : ${i.reason}`) : ""),
      ),
    ),
  );
}

/** The server's refusal for this place (outside every territory, no competent service):
 * one box, which says where to report instead; the form does not repeat it. */
export function refusal(message: string): HTMLElement {
  const box = errorBox(message);
  box.dataset.testid = "routing-refused";
  box.tabIndex = -1;
  return box;
}

async function support(id: string, out: HTMLElement): Promise<void> {
  try {
    await addSupport(id);
    mount(out, h("p", { class: "alert alert-ok", role: "status" }, "Merci : votre soutien est enregistré. ", h("a", { href: `/suivi/${encodeURIComponent(id)}` }, "Suivre ce signalement")));
  } catch (err) {
    mount(out, errorBox(err instanceof Error ? err.message : "Soutien impossible."));
  }
}

export async function nearbyBlock(at: LngLat, code: string): Promise<HTMLElement | null> {
  let items: Nearby[];
  try {
    items = await loadNearby(at.lng, at.lat, code);
  } catch {
    return null; // nothing to offer: the citizen simply files a new report
  }
  if (!items.length) return null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "nearby-title", "data-testid": "nearby" },
    h("h2", { class: "h3", id: "nearby-title" }, "Déjà signalé tout près ?"),
    h("p", null, "Si c'est le même problème, soutenez ce signalement plutôt que d'en créer un nouveau."),
    h(
      "ul",
      { class: "plain-list" },
      items.slice(0, 5).map((n) => {
        const id = String(n.id);
        const out = h("div", { "aria-live": "polite" });
        const count = n.supports ?? n.supporters;
        return h(
          "li",
          { class: "nearby-item" },
          h("p", null, h("a", { href: `/suivi/${encodeURIComponent(id)}` }, `n° ${id}`), ` — ${stateLabel(n.state)}`,
            n.distance_m !== undefined ? `, à ${Math.round(n.distance_m)} m` : "",
            n.created_at ? `, le ${formatDay(n.created_at)}` : "",
            count ? `, ${count} soutien${count > 1 ? "s" : ""}` : ""),
          n.summary ?? n.description ? h("p", { class: "muted" }, n.summary ?? n.description ?? "") : null,
          n.address ? h("p", { class: "muted" }, n.address) : null,
          me()
            ? h("button", { type: "button", class: "btn btn-small", onclick: () => support(id, out) }, icon("thumbUp", 16), " Soutenir ce signalement")
            : h("p", null, h("a", { href: `/connexion?next=${encodeURIComponent(window.location.pathname)}` }, "Connectez-vous"), " pour soutenir ce signalement."),
          out,
        );
      }),
    ),
  );
}

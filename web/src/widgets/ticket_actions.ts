// What an agent does on a ticket: a transition with its public note, a transfer
// to another service with a reason, a merge of a duplicate into this ticket.

import { ApiError } from "../api/client";
import { announce, errorBox, field, h, mount } from "../dom";
import { transitions } from "../labels";
import { merge, transfer, transition, type Signalement } from "../api/signalements";
import { loadTransferCandidates, type TransferCandidates } from "../api/routing";

function actionForm(
  title: string,
  controls: HTMLElement[],
  submitLabel: string,
  send: () => Promise<string>,
  done: () => void,
): HTMLFormElement {
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn" }, submitLabel);
  const id = `${title.replace(/\W+/g, "-").toLowerCase()}-title`;
  const form = h("form", { class: "stack card", "aria-labelledby": id }, h("h3", { id, class: "h4" }, title), ...controls, out, submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    try {
      announce(await send());
      done();
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Action impossible."));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export function transitionForm(s: Signalement, done: () => void): HTMLFormElement {
  const to = h("select", { name: "to", required: true }, transitions().map((t) => h("option", { value: t.to }, t.label)));
  const note = h("textarea", { name: "note", rows: 3, maxlength: 2000 });
  return actionForm(
    "Changer l'état",
    [field("Nouvel état", to), field("Note publique", note, "Visible par le citoyen sur la page de suivi.")],
    "Appliquer",
    async () => {
      await transition(s.id, to.value, note.value.trim() || null);
      return "État mis à jour.";
    },
    done,
  );
}

const RELATION: Record<string, string> = { commune: "commune du signalement", intercommunalite: "intercommunalité", autre: "autre collectivité" };

/** The select's options: one optgroup per authority, the ticket's commune's and
 * intercommunalities' first (the server's order). */
function fillServices(select: HTMLSelectElement, data: TransferCandidates): void {
  const count = data.groups.reduce((n, g) => n + g.services.length, 0);
  mount(
    select,
    h("option", { value: "" }, count ? "Choisir un service" : "Aucun service trouvé"),
    data.groups.map((g) =>
      h("optgroup", { label: `${g.authority} (${RELATION[g.relation] ?? g.relation})` }, g.services.map((o) => h("option", { value: String(o.id) }, `${o.name} — ${g.authority}`))),
    ),
  );
}

export function transferForm(s: Signalement, done: () => void): HTMLFormElement {
  const service = h("select", { name: "service_id", required: true }, h("option", { value: "" }, "Chargement…"));
  const status = h("p", { class: "hint", "aria-live": "polite" });
  const load = async (q: string): Promise<void> => {
    try {
      const data = await loadTransferCandidates(s.id, q);
      fillServices(service, data);
      const n = data.groups.reduce((k, g) => k + g.services.length, 0);
      status.textContent = q ? `${n} service${n > 1 ? "s" : ""} pour « ${q} »${n >= data.limit ? " (affinez la recherche)" : ""}.` : "Services de la commune et de ses intercommunalités.";
    } catch (err) {
      mount(service, h("option", { value: "" }, "Liste des services indisponible"));
      status.textContent = err instanceof Error ? err.message : "";
    }
  };
  void load("");
  const search = h("input", { type: "search", name: "q", maxlength: 100, autocomplete: "off" });
  const find = h("button", { type: "button", class: "btn btn-small" }, "Chercher");
  find.addEventListener("click", () => void load(search.value.trim()));
  search.addEventListener("keydown", (ev) => {
    if ((ev as KeyboardEvent).key === "Enter") {
      ev.preventDefault();
      void load(search.value.trim());
    }
  });
  const reason = h("textarea", { name: "reason", rows: 2, required: true, maxlength: 2000 });
  return actionForm(
    "Transférer à un autre service",
    [
      field("Service destinataire", service),
      status,
      h("div", { class: "row search-row" }, field("Autre service (recherche)", search, "Nom du service ou de la collectivité ; Entrée pour chercher."), find),
      field("Motif du transfert", reason, "Obligatoire ; visible sur la page de suivi."),
    ],
    "Transférer",
    async () => {
      if (!service.value) throw new ApiError("Choisissez un service.", 422, null);
      if (!reason.value.trim()) throw new ApiError("Indiquez le motif du transfert.", 422, null);
      await transfer(s.id, Number(service.value), reason.value.trim());
      return "Signalement transféré.";
    },
    done,
  );
}

export function mergeForm(s: Signalement, done: () => void): HTMLFormElement {
  const dup = h("input", { type: "number", name: "duplicate", min: 1, required: true, inputmode: "numeric" });
  return actionForm(
    "Fusionner un doublon",
    [field("Numéro du signalement en double", dup, `Il sera clos et rattaché au n° ${s.id} ; ses soutiens s'y ajoutent.`)],
    "Fusionner dans ce signalement",
    async () => {
      if (!dup.value) throw new ApiError("Indiquez le numéro du doublon.", 422, null);
      await merge(dup.value, s.id);
      return `Le n° ${dup.value} est fusionné dans le n° ${s.id}.`;
    },
    done,
  );
}

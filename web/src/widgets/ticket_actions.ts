// What an agent does on a ticket: a transition with its public note, a transfer
// to another service with a reason, a merge of a duplicate into this ticket.

import { api, ApiError, itemsOf } from "../api/client";
import { announce, errorBox, field, h, mount } from "../dom";
import { transitions } from "../labels";
import type { Signalement } from "../api/signalements";
import type { ServiceOption } from "../api/routing";

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
      await api(`/api/v1/signalements/${s.id}/transitions`, { method: "POST", json: { to: to.value, note: note.value.trim() || null } });
      return "État mis à jour.";
    },
    done,
  );
}

export function transferForm(s: Signalement & { service_id?: number }, done: () => void): HTMLFormElement {
  const service = h("select", { name: "service_id", required: true }, h("option", { value: "" }, "Chargement…"));
  void api("/api/v1/services")
    .then((data) => {
      const byAuthority = new Map<string, ServiceOption[]>();
      for (const o of itemsOf<ServiceOption>(data)) {
        if (o.id === s.service_id) continue;
        const key = o.authority ?? "Autres";
        byAuthority.set(key, [...(byAuthority.get(key) ?? []), o]);
      }
      mount(
        service,
        h("option", { value: "" }, "Choisir un service"),
        [...byAuthority.entries()].map(([authority, opts]) =>
          h("optgroup", { label: authority }, opts.map((o) => h("option", { value: String(o.id) }, `${authority} — ${o.name}`))),
        ),
      );
    })
    .catch(() => mount(service, h("option", { value: "" }, "Liste des services indisponible")));
  const reason = h("textarea", { name: "reason", rows: 2, required: true, maxlength: 2000 });
  return actionForm(
    "Transférer à un autre service",
    [field("Service destinataire", service), field("Motif du transfert", reason, "Obligatoire ; visible sur la page de suivi.")],
    "Transférer",
    async () => {
      if (!service.value) throw new ApiError("Choisissez un service.", 422, null);
      if (!reason.value.trim()) throw new ApiError("Indiquez le motif du transfert.", 422, null);
      await api(`/api/v1/signalements/${s.id}/transfer`, { method: "POST", json: { service_id: Number(service.value), reason: reason.value.trim() } });
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
      await api(`/api/v1/signalements/${encodeURIComponent(dup.value)}/merge`, { method: "POST", json: { into: s.id } });
      return `Le n° ${dup.value} est fusionné dans le n° ${s.id}.`;
    },
    done,
  );
}

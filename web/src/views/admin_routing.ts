// Administration of routing: the services of the caller's authorities, and the
// competence table (filters, edit form, versions: an edit closes the rule and
// opens a new version, the history stays visible).

import { categories } from "../api/categories";
import { terms, termLabel } from "../api/vocabulary";
import { field, formatDateTime, h, mount, uid } from "../dom";
import { fromLocalInput, onSubmit, outlet, requireRole, setFlash, takeFlash } from "../forms";
import { heading, navigate, type ViewContext } from "../router";
import { myAuthorities, type AuthorityRef } from "../api/accounts";
import {
  closeRule,
  createRule,
  createService,
  loadAdminServices,
  loadRules,
  updateRule,
  updateService,
  type Rule,
  type ServiceAdmin,
} from "../api/routing";

// Levels and scopes with their labels from the server's vocabulary; `etat` (the State's
// roads, national defaults only) is never offered to an administrator.
const levelOptions = (): [string, string][] =>
  terms("competence_level").filter((t) => t.code !== "etat").map((t): [string, string] => [t.code, t.label]);
const scopeOptions = (): [string, string][] => terms("competence_scope").map((t): [string, string] => [t.code, t.label]);
const levelLabel = (code: string): string => termLabel("competence_level", code);
const scopeLabel = (code: string): string => termLabel("competence_scope", code);

function authorityPairs(authorities: AuthorityRef[]): [string, string][] {
  return authorities.map((a): [string, string] => [String(a.id), a.name]);
}

function crumb(): HTMLElement {
  return h("p", { class: "crumb" }, h("a", { href: "/admin" }, "Administration"));
}

function options(entries: Record<string, string> | [string, string][], value?: string | null): HTMLOptionElement[] {
  const list = Array.isArray(entries) ? entries : Object.entries(entries);
  return list.map(([v, l]) => h("option", { value: v, selected: v === value }, l));
}

function serviceForm(authorities: AuthorityRef[], done: () => void, svc?: ServiceAdmin): HTMLFormElement {
  const authority = h("select", { name: "authority_id", required: true }, options(authorityPairs(authorities)));
  const name = h("input", { type: "text", name: "name", required: true, minlength: 2, maxlength: 200, value: svc?.name ?? "" });
  const slug = h("input", { type: "text", name: "slug", maxlength: 80, pattern: "[a-z0-9]+(-[a-z0-9]+)*" });
  const email = h("input", { type: "email", name: "email", maxlength: 254, value: svc?.email ?? "" });
  const webhook = h("input", { type: "url", name: "webhook_url", maxlength: 500, value: svc?.webhook_url ?? "" });
  const out = outlet();
  const titleId = uid("svc");
  const form = h(
    "form",
    { class: "stack card", "aria-labelledby": titleId },
    h("h2", { id: titleId, class: "h3" }, svc ? `Modifier « ${svc.name} »` : "Nouveau service"),
    svc ? h("p", { class: "hint" }, `Identifiant : ${svc.slug} (les règles de compétence le citent : il ne change pas).`) : [field("Collectivité", authority), field("Identifiant (facultatif)", slug, "Minuscules et tirets ; par défaut tiré du nom.")],
    field("Nom du service", name),
    field("E-mail de réception", email, "Facultatif : les nouveaux signalements y sont annoncés."),
    field("Webhook (URL)", webhook, "Facultatif : adresse http(s) appelée à chaque signalement."),
    out,
    h("button", { type: "submit", class: "btn btn-primary" }, svc ? "Enregistrer" : "Créer le service"),
  );
  onSubmit(form, out, async () => {
    const contact = { name: name.value.trim(), email: email.value.trim() || null, webhook_url: webhook.value.trim() || null };
    if (svc) await updateService(svc.id, contact);
    else await createService({ ...contact, authority_id: Number(authority.value), slug: slug.value.trim() || null });
    done();
  });
  return form;
}

export async function adminServicesView({ panel, query }: ViewContext): Promise<void> {
  if (!requireRole("/admin/services", "admin")) return;
  const [services, authorities] = await Promise.all([
    loadAdminServices(),
    myAuthorities(),
  ]);
  const filter = query.get("collectivite") ?? "";
  const shown = services.filter((s) => !filter || String(s.authority_id) === filter);
  const reload = (): void => {
    setFlash("Service enregistré.");
    navigate(`/admin/services${filter ? `?collectivite=${filter}` : ""}`, true);
  };
  const editSlot = h("div");
  const pick = h("select", { name: "collectivite", id: uid("f") }, h("option", { value: "" }, "Toutes"), options(authorityPairs(authorities), filter));
  const filters = h("form", { class: "filters", "aria-label": "Filtrer les services" }, h("div", { class: "field" }, h("label", { for: pick.id }, "Collectivité"), pick),
    h("button", { type: "submit", class: "btn btn-small" }, "Filtrer"));
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    navigate(`/admin/services${pick.value ? `?collectivite=${pick.value}` : ""}`);
  });
  const rows = shown.map((s) =>
    h("tr", null,
      h("td", null, s.authority), h("td", null, h("strong", null, s.name), h("br"), h("span", { class: "meta mono" }, s.slug)),
      h("td", null, s.email ?? "—"), h("td", null, s.webhook_url ? "oui" : "—"),
      h("td", null, h("button", { type: "button", class: "btn btn-small", "aria-label": `Modifier ${s.name} (${s.authority})`, onclick: () => {
        mount(editSlot, serviceForm(authorities, reload, s));
        editSlot.querySelector("input")?.focus();
      } }, "Modifier"))));
  mount(
    panel,
    crumb(),
    heading("Services"),
    takeFlash(),
    filters,
    h("div", { class: "table-wrap" }, h("table", { class: "queue" }, h("caption", null, `${shown.length} service${shown.length > 1 ? "s" : ""}`),
      h("thead", null, h("tr", null, ["Collectivité", "Service", "E-mail", "Webhook", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", null, rows))),
    editSlot,
    serviceForm(authorities, reload),
  );
}

function validity(r: Rule): string {
  const from = r.valid_from ? formatDateTime(r.valid_from) : "toujours";
  return r.valid_to ? `du ${from} au ${formatDateTime(r.valid_to)}` : `depuis ${from}`;
}

function ruleForm(cats: [string, string][], authorities: AuthorityRef[], done: (msg: string) => void, rule?: Rule): HTMLFormElement {
  const category = h("select", { name: "category", required: true }, options(cats, rule?.category));
  const level = h("select", { name: "level", required: true }, options(levelOptions(), rule?.level));
  const authority = h("select", { name: "authority_id" }, h("option", { value: "" }, "—"), options(authorityPairs(authorities), rule?.authority_id ? String(rule.authority_id) : null));
  const scope = h("select", { name: "scope_kind", required: true }, options(scopeOptions(), rule?.scope_kind));
  const code = h("input", { type: "text", name: "scope_code", maxlength: 20, value: rule?.scope_code ?? "" });
  const road = h("input", { type: "text", name: "road_class", maxlength: 40, value: rule?.road_class ?? "" });
  const service = h("input", { type: "text", name: "service_slug", maxlength: 80, value: rule?.service_slug ?? "" });
  const from = h("input", { type: "datetime-local", name: "valid_from" });
  const note = h("textarea", { name: "note", rows: 2, maxlength: 2000 });
  const out = outlet();
  const titleId = uid("rule");
  const form = h(
    "form",
    { class: "stack card", "aria-labelledby": titleId },
    h("h2", { id: titleId, class: "h3" }, rule ? `Modifier la règle n° ${rule.id}` : "Nouvelle règle"),
    rule
      ? h("p", { class: "hint" }, `${rule.category}, ${scopeLabel(rule.scope_kind)} ${rule.scope_code ?? ""}. Enregistrer crée une nouvelle version ; la version actuelle est close à la date d'effet.`)
      : [field("Catégorie", category), field("Portée", scope), field("Code du territoire", code, "INSEE, SIREN ou numéro de département ; vide pour « Partout ».")],
    field("Niveau compétent", level),
    field("Collectivité désignée", authority, "Seulement pour le niveau « Une collectivité désignée »."),
    field("Service (identifiant)", service, "Par défaut : le code de la catégorie."),
    field("Classe de voie", road, "Facultatif : la règle ne vaut que près d'une voie de cette classe (ex. departementale)."),
    field("Date d'effet", from, "Vide : maintenant."),
    field("Note (motif du changement)", note),
    out,
    h("button", { type: "submit", class: "btn btn-primary" }, rule ? "Enregistrer une nouvelle version" : "Ajouter la règle"),
  );
  onSubmit(form, out, async () => {
    const common = {
      level: level.value,
      authority_id: level.value === "authority" ? Number(authority.value) || null : null,
      road_class: road.value.trim() || null,
      service_slug: service.value.trim() || null,
      valid_from: fromLocalInput(from.value),
      note: note.value.trim() || null,
    };
    if (rule) {
      const made = await updateRule(rule.id, common);
      done(`Version n° ${made.id} enregistrée ; elle remplace la règle n° ${rule.id}.`);
    } else {
      const made = await createRule({ ...common, category: category.value, scope_kind: scope.value, scope_code: scope.value === "everywhere" ? null : code.value.trim() || null });
      done(`Règle n° ${made.id} ajoutée.`);
    }
  });
  return form;
}

function ruleRow(r: Rule, catLabel: (c: string) => string, edit: (r: Rule) => void, close: (r: Rule) => void): HTMLTableRowElement {
  return h(
    "tr",
    { class: r.active ? null : "closed-rule", "data-rule": String(r.id) },
    h("td", null, `n° ${r.id}`, r.replaces_id ? h("span", { class: "meta" }, h("br"), `remplace n° ${r.replaces_id}`) : ""),
    h("td", null, catLabel(r.category)),
    h("td", null, scopeLabel(r.scope_kind), r.scope_code ? ` ${r.scope_code}` : "", r.road_class ? h("span", { class: "meta" }, h("br"), `voie : ${r.road_class}`) : ""),
    h("td", null, r.level === "authority" ? r.authority ?? "" : levelLabel(r.level), h("br"), h("span", { class: "meta mono" }, r.service_slug)),
    h("td", null, h("span", { class: `badge ${r.active ? "state-resolved" : "state-rejected"}` }, r.active ? "En vigueur" : "Close"), h("br"), h("span", { class: "meta" }, validity(r)),
      r.note ? h("span", { class: "meta" }, h("br"), r.note) : ""),
    h("td", null, r.scope_kind === "everywhere"
      ? h("span", { class: "meta" }, "Règle du fichier de déploiement")
      : r.active
      ? h("div", { class: "row" },
          h("button", { type: "button", class: "btn btn-small", "aria-label": `Modifier la règle n° ${r.id}`, onclick: () => edit(r) }, "Modifier"),
          h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Retirer la règle n° ${r.id}`, onclick: () => close(r) }, "Retirer"))
      : ""),
  );
}

export async function adminCompetencesView({ panel, query }: ViewContext): Promise<void> {
  if (!requireRole("/admin/competences", "admin")) return;
  const filters = { category: query.get("categorie") ?? "", level: query.get("niveau") ?? "", code: query.get("territoire") ?? "", history: query.get("historique") === "1" };
  const [cats, authorities, rules] = await Promise.all([
    categories(),
    myAuthorities(),
    loadRules(filters.category || null, filters.history),
  ]);
  const catPairs = cats.map((c): [string, string] => [c.code, c.label]);
  const catLabel = (code: string): string => cats.find((c) => c.code === code)?.label ?? code;
  const shown = rules
    .filter((r) => !filters.level || r.level === filters.level)
    .filter((r) => !filters.code || (r.scope_code ?? "").startsWith(filters.code) || (r.authority ?? "").toLowerCase().includes(filters.code.toLowerCase()));
  const here = window.location.pathname + window.location.search;
  const status = outlet();
  const done = (msg: string): void => {
    setFlash(msg);
    navigate(here, true);
  };
  const editSlot = h("div");
  const edit = (r: Rule): void => {
    mount(editSlot, ruleForm(catPairs, authorities, done, r));
    editSlot.querySelector<HTMLElement>("select, input")?.focus();
  };
  const close = async (r: Rule): Promise<void> => {
    if (!window.confirm(`Retirer la règle n° ${r.id} à partir de maintenant ?`)) return;
    try {
      await closeRule(r.id);
      done(`Règle n° ${r.id} retirée.`);
    } catch (err) {
      mount(status, h("div", { class: "alert alert-error", role: "alert" }, err instanceof Error ? err.message : "Retrait impossible."));
    }
  };
  const cat = h("select", { name: "categorie", id: uid("f") }, h("option", { value: "" }, "Toutes"), options(catPairs, filters.category));
  const lvl = h("select", { name: "niveau", id: uid("f") }, h("option", { value: "" }, "Tous"), options(levelOptions(), filters.level));
  const code = h("input", { type: "text", name: "territoire", id: uid("f"), value: filters.code });
  const hist = h("input", { type: "checkbox", name: "historique", value: "1", id: uid("f"), checked: filters.history });
  const form = h("form", { class: "filters", "aria-label": "Filtrer les règles" },
    h("div", { class: "field" }, h("label", { for: cat.id }, "Catégorie"), cat),
    h("div", { class: "field" }, h("label", { for: lvl.id }, "Niveau"), lvl),
    h("div", { class: "field" }, h("label", { for: code.id }, "Territoire (code ou nom)"), code),
    h("label", { for: hist.id, class: "check" }, hist, " Afficher les versions closes"),
    h("button", { type: "submit", class: "btn btn-small" }, "Filtrer"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) params.set(k, String(v));
    navigate(`/admin/competences${params.toString() ? `?${params}` : ""}`);
  });
  mount(status, takeFlash());
  mount(
    panel,
    crumb(),
    heading("Table des compétences"),
    h("p", { class: "muted" }, "Qui reçoit les signalements de chaque catégorie. Modifier une règle la clôt et crée une nouvelle version : l'historique reste consultable."),
    form,
    status,
    h("div", { class: "table-wrap" }, h("table", { class: "queue rules" }, h("caption", null, `${shown.length} règle${shown.length > 1 ? "s" : ""}`),
      h("thead", null, h("tr", null, ["Règle", "Catégorie", "Portée", "Compétent", "Validité", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, shown.map((r) => ruleRow(r, catLabel, edit, (x) => void close(x)))))),
    editSlot,
    ruleForm(catPairs, authorities, done),
  );
}

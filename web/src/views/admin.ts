// Administration of concertations: the list, the creation form, and one
// concertation's settings (dates, description, perimeter, themes, reference
// layers, archive). Every check is the server's: its French refusal is shown.

import { myAuthorities, type AuthorityRef } from "../api/accounts";
import { field, formatDay, h, mount, uid } from "../dom";
import { codesOf, fromLocalInput, onSubmit, outlet, requireRole, setFlash, takeFlash, toLocalInput } from "../forms";
import { heading, navigate, type ViewContext } from "../router";
import {
  addReferenceLayer,
  archiveConcertation,
  createConcertation,
  loadConcertationDetail,
  loadConcertations,
  updateConcertation,
  type Concertation,
  type ConcertationUpdate,
} from "../api/concertations";
import { concertationKindOptions } from "../labels";
import { bboxOf } from "../widgets/concertation_map";
import type { ConcertationDetail, ThemeInput } from "../api/concertations";

const GEOMETRIES: [string, string][] = [["Point", "Points"], ["LineString", "Lignes"], ["Polygon", "Zones"]];
const PALETTE = ["#1d4ed8", "#15803d", "#b45309", "#be185d", "#7c3aed", "#0f766e"];

/** The themes editor: one row per theme (label and colour); existing themes keep their slug. */
function themesEditor(initial: ThemeInput[]): { element: HTMLElement; values: () => ThemeInput[] } {
  const rows = h("ol", { class: "plain-list theme-rows" });
  const add = (t: ThemeInput): void => {
    const label = h("input", { type: "text", required: true, minlength: 2, maxlength: 120, value: t.label, name: "theme-label" });
    const color = h("input", { type: "color", value: t.color, name: "theme-color" });
    const li = h("li", { class: "row theme-row", "data-slug": t.slug ?? "" });
    const remove = h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => li.remove() }, "Retirer");
    mount(li, field("Libellé du thème", label), field("Couleur", color), remove);
    rows.append(li);
  };
  initial.forEach(add);
  const more = h("button", { type: "button", class: "btn btn-small", onclick: () => {
    add({ label: "", color: PALETTE[rows.children.length % PALETTE.length] });
    rows.querySelector<HTMLInputElement>("li:last-child input")?.focus();
  } }, "Ajouter un thème");
  const values = (): ThemeInput[] =>
    [...rows.querySelectorAll<HTMLLIElement>("li")].map((li) => ({
      ...(li.dataset.slug ? { slug: li.dataset.slug } : {}),
      label: li.querySelector<HTMLInputElement>("input[name=theme-label]")!.value.trim(),
      color: li.querySelector<HTMLInputElement>("input[name=theme-color]")!.value,
    }));
  return { element: h("fieldset", null, h("legend", null, "Thèmes"), rows, more), values };
}

function perimeterFields(communes: string, epci: string): { element: HTMLElement; communes: HTMLInputElement; epci: HTMLInputElement } {
  const c = h("input", { type: "text", name: "communes", value: communes, inputmode: "numeric", autocomplete: "off" });
  const e = h("input", { type: "text", name: "intercommunalites", value: epci, inputmode: "numeric", autocomplete: "off" });
  return {
    element: h(
      "fieldset",
      null,
      h("legend", null, "Périmètre"),
      field("Communes (codes INSEE)", c, "Séparés par des virgules, par exemple 59350, 59512."),
      field("Intercommunalités (SIREN)", e, "Laissez les deux champs vides pour prendre le territoire des collectivités organisatrices."),
    ),
    communes: c,
    epci: e,
  };
}

function concertationTable(items: Concertation[]): HTMLElement {
  if (!items.length) return h("p", null, "Aucune concertation.");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "queue" },
      h("caption", null, `${items.length} concertation${items.length > 1 ? "s" : ""}`),
      h("thead", null, h("tr", null, ["Titre", "État", "Dates", "Contributions"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        null,
        items.map((c) =>
          h(
            "tr",
            null,
            h("td", null, h("a", { href: `/admin/concertations/${encodeURIComponent(c.slug)}` }, c.title)),
            h("td", null, h("span", { class: `badge status-${c.status}` }, c.status_label ?? c.status)),
            h("td", null, `${formatDay(c.opens_at)} → ${formatDay(c.closes_at)}`),
            h("td", null, String(c.contributions ?? 0)),
          ),
        ),
      ),
    ),
  );
}

function createForm(authorities: AuthorityRef[]): HTMLElement {
  const title = h("input", { type: "text", name: "title", required: true, minlength: 3, maxlength: 200 });
  const description = h("textarea", { name: "description", rows: 4, maxlength: 20000 });
  const kind = h("select", { name: "kind" }, concertationKindOptions().map(([v, l]) => h("option", { value: v }, l)));
  const organisers = authorities.map((a) => h("input", { type: "checkbox", name: "authorities", value: a.slug, id: uid("org") }));
  const now = new Date();
  const opens = h("input", { type: "datetime-local", name: "opens_at", required: true, value: toLocalInput(now.toISOString()) });
  const closes = h("input", { type: "datetime-local", name: "closes_at", required: true, value: toLocalInput(new Date(now.getTime() + 30 * 86_400_000).toISOString()) });
  const geometries = GEOMETRIES.map(([v]) => h("input", { type: "checkbox", name: "geometry", value: v, id: uid("geo"), checked: v === "Point" }));
  const perimeter = perimeterFields("", "");
  const themes = themesEditor([{ label: "", color: PALETTE[0] }]);
  const out = outlet();
  const form = h(
    "form",
    { class: "stack card", "aria-labelledby": "new-concertation" },
    h("h2", { id: "new-concertation", class: "h3" }, "Nouvelle concertation"),
    field("Titre", title),
    field("Description", description),
    field("Nature du projet", kind),
    h("fieldset", null, h("legend", null, "Collectivités organisatrices"),
      organisers.length ? organisers.map((input, i) => h("label", { for: input.id, class: "check" }, input, ` ${authorities[i].name}`))
        : h("p", null, "Vous n'administrez aucune collectivité.")),
    field("Ouverture", opens),
    field("Clôture", closes),
    perimeter.element,
    themes.element,
    h("fieldset", null, h("legend", null, "Contributions acceptées"), geometries.map((input, i) => h("label", { for: input.id, class: "check" }, input, ` ${GEOMETRIES[i][1]}`))),
    out,
    h("button", { type: "submit", class: "btn btn-primary" }, "Créer la concertation"),
  );
  onSubmit(form, out, async () => {
    const chosen = organisers.filter((o) => o.checked).map((o) => o.value);
    if (!chosen.length) throw new Error("Choisissez au moins une collectivité organisatrice.");
    let communes = codesOf(perimeter.communes.value);
    let epci = codesOf(perimeter.epci.value);
    if (!communes.length && !epci.length) {
      const picked = authorities.filter((a) => chosen.includes(a.slug));
      communes = picked.filter((a) => a.kind === "commune").map((a) => a.code);
      epci = picked.filter((a) => a.kind !== "commune").map((a) => a.code);
    }
    const made = await createConcertation({
      title: title.value.trim(),
      description: description.value.trim(),
      kind: kind.value,
      authorities: chosen,
      perimeter: { communes, intercommunalites: epci },
      opens_at: fromLocalInput(opens.value),
      closes_at: fromLocalInput(closes.value),
      themes: themes.values(),
      allowed_geometry_types: geometries.filter((g) => g.checked).map((g) => g.value),
    });
    navigate(`/admin/concertations/${encodeURIComponent(made.slug)}?cree=1`);
  });
  return form;
}

export async function adminConcertationsView({ panel, map }: ViewContext): Promise<void> {
  if (!requireRole("/admin/concertations", "admin")) return;
  const [items, authorities] = await Promise.all([loadConcertations(), myAuthorities()]);
  map.addOverlay(
    "admin-perimeters",
    { "admin-perimeters": { type: "geojson", data: { type: "FeatureCollection", features: items.map((c) => ({ type: "Feature", properties: { slug: c.slug }, geometry: c.perimeter })) } } },
    [{ id: "admin-perimeters-line", type: "line", source: "admin-perimeters", paint: { "line-color": "#7c2d12", "line-width": 2.5 } }],
  );
  mount(
    panel,
    h("p", { class: "crumb" }, h("a", { href: "/admin" }, "Administration")),
    heading("Administrer les concertations"),
    concertationTable(items),
    createForm(authorities),
  );
}

function layersBlock(c: ConcertationDetail, reload: () => void): HTMLElement {
  const list = c.reference_layers.length
    ? h("ul", { class: "plain-list", "data-testid": "reference-layers" }, c.reference_layers.map((l) =>
        h("li", { class: "card" }, h("span", { class: "theme-dot", style: `background:${l.color}` }), ` ${l.title} `,
          h("span", { class: "meta" }, `(${l.role === "constraint" ? `contrainte : ${l.rule ?? ""}` : "référence"}, ${l.features} objet${l.features > 1 ? "s" : ""})`))))
    : h("p", null, "Aucune couche de référence.");
  const file = h("input", { type: "file", name: "file", required: true, accept: ".geojson,.json,.gpkg,.zip,.kml,.fgb,.csv" });
  const title = h("input", { type: "text", name: "title", required: true, maxlength: 200 });
  const role = h("select", { name: "role" }, h("option", { value: "reference" }, "Référence (affichée sur la carte)"), h("option", { value: "constraint" }, "Contrainte (vérifie les contributions)"));
  const rule = h("select", { name: "rule" }, h("option", { value: "" }, "—"), h("option", { value: "no_overlap" }, "Ne pas chevaucher"), h("option", { value: "min_distance" }, "Distance minimale"), h("option", { value: "inside" }, "Être à l'intérieur"));
  const distance = h("input", { type: "number", name: "distance_m", min: 0, step: 1 });
  const message = h("input", { type: "text", name: "message", maxlength: 500 });
  const color = h("input", { type: "color", name: "color", value: "#666666" });
  const out = outlet();
  const form = h("form", { class: "stack card", "aria-labelledby": "layer-upload" },
    h("h3", { id: "layer-upload", class: "h4" }, "Ajouter une couche"),
    field("Fichier", file, "GeoJSON, GeoPackage, Shapefile zippé… (50 Mo au plus)."), field("Titre de la couche", title),
    field("Rôle", role), field("Règle (contraintes)", rule), field("Distance (mètres)", distance),
    field("Message au contributeur", message), field("Couleur", color),
    out, h("button", { type: "submit", class: "btn" }, "Téléverser la couche"));
  onSubmit(form, out, async () => {
    const data = new FormData(form);
    for (const [k, v] of [...data.entries()]) if (v === "") data.delete(k);
    const made = await addReferenceLayer(c, data);
    setFlash(`Couche ajoutée (${made.features} objet${made.features > 1 ? "s" : ""}).`);
    reload();
  });
  return h("section", { "aria-labelledby": "layers-title" }, h("h2", { id: "layers-title" }, "Couches de référence"), list, c.archived_at ? null : form);
}

export async function adminConcertationView({ panel, map, params, query }: ViewContext): Promise<void> {
  const path = `/admin/concertations/${params.slug}`;
  if (!requireRole(path, "admin")) return;
  const c = await loadConcertationDetail(params.slug);
  const reload = (): void => navigate(path, true);
  const patch = async (json: ConcertationUpdate): Promise<void> => {
    await updateConcertation(c, json);
    setFlash("Modifications enregistrées.");
    reload();
  };
  map.addOverlay("admin-perimeter", { "admin-perimeter": { type: "geojson", data: { type: "Feature", properties: {}, geometry: c.perimeter } } },
    [{ id: "admin-perimeter-line", type: "line", source: "admin-perimeter", paint: { "line-color": "#7c2d12", "line-width": 3 } }]);
  map.fit(bboxOf(c.perimeter), 14);
  const archived = !!c.archived_at;

  const title = h("input", { type: "text", name: "title", required: true, minlength: 3, maxlength: 200, value: c.title });
  const description = h("textarea", { name: "description", rows: 4, maxlength: 20000 }, c.description ?? "");
  const opens = h("input", { type: "datetime-local", name: "opens_at", required: true, value: toLocalInput(c.opens_at) });
  const closes = h("input", { type: "datetime-local", name: "closes_at", required: true, value: toLocalInput(c.closes_at) });
  const infoOut = outlet();
  const info = h("form", { class: "stack card", "aria-labelledby": "info-title" }, h("h2", { id: "info-title", class: "h3" }, "Informations et dates"),
    field("Titre", title), field("Description", description), field("Ouverture", opens), field("Clôture", closes), infoOut,
    h("button", { type: "submit", class: "btn" }, "Enregistrer"));
  onSubmit(info, infoOut, () => patch({ title: title.value.trim(), description: description.value.trim(), opens_at: fromLocalInput(opens.value), closes_at: fromLocalInput(closes.value) }));

  const perimeter = perimeterFields("", "");
  const perOut = outlet();
  const perForm = h("form", { class: "stack card", "aria-labelledby": "per-title" }, h("h2", { id: "per-title", class: "h3" }, "Modifier le périmètre"),
    h("p", { class: "hint" }, "Le nouveau périmètre remplace l'actuel (tracé sur la carte) ; les contributions déjà publiées restent."),
    perimeter.element, perOut, h("button", { type: "submit", class: "btn" }, "Remplacer le périmètre"));
  onSubmit(perForm, perOut, () => patch({ perimeter: { communes: codesOf(perimeter.communes.value), intercommunalites: codesOf(perimeter.epci.value) } }));

  const themes = themesEditor(c.themes.map((t) => ({ slug: t.slug, label: t.label, color: t.color })));
  const themeOut = outlet();
  const themeForm = h("form", { class: "stack card", "aria-labelledby": "themes-title" }, h("h2", { id: "themes-title", class: "h3" }, "Thèmes"),
    h("p", { class: "hint" }, "Un thème qui a déjà des contributions ne peut pas être retiré : changez plutôt son libellé."),
    themes.element, themeOut, h("button", { type: "submit", class: "btn" }, "Enregistrer les thèmes"));
  onSubmit(themeForm, themeOut, () => patch({ themes: themes.values() }));

  const archiveOut = outlet();
  const archiveForm = h("form", { class: "stack card", "aria-labelledby": "archive-title" }, h("h2", { id: "archive-title", class: "h3" }, "Archiver"),
    h("p", null, "L'archive reste consultable et exportable, mais plus rien ne peut y être ajouté ni modifié."),
    archiveOut, h("button", { type: "submit", class: "btn btn-ghost" }, "Archiver la concertation"));
  onSubmit(archiveForm, archiveOut, async () => {
    if (!window.confirm(`Archiver « ${c.title} » ? Ce n'est pas réversible.`)) return;
    await archiveConcertation(c);
    setFlash("Concertation archivée.");
    reload();
  });

  mount(
    panel,
    h("p", { class: "crumb" }, h("a", { href: "/admin/concertations" }, "Toutes les concertations")),
    heading(c.title),
    query.get("cree") ? h("p", { class: "alert alert-ok", role: "status" }, "Concertation créée.") : takeFlash(),
    h("p", null, h("span", { class: `badge status-${c.status}` }, c.status_label ?? c.status), ` · ${c.authorities.join(", ")} · `,
      h("a", { href: `/concertations/${encodeURIComponent(c.slug)}` }, "Voir la page publique")),
    archived ? h("p", { class: "alert alert-info" }, "Cette concertation est archivée : ses réglages sont figés.") : [info, perForm, themeForm],
    layersBlock(c, reload),
    archived ? null : archiveForm,
  );
}

export function adminHomeView({ panel }: ViewContext): void {
  if (!requireRole("/admin", "admin")) return;
  const link = (href: string, title: string, text: string): HTMLElement =>
    h("li", { class: "card" }, h("h2", { class: "h3" }, h("a", { href }, title)), h("p", { class: "muted" }, text));
  mount(
    panel,
    heading("Administration"),
    h("ul", { class: "plain-list" },
      link("/admin/concertations", "Concertations", "Créer, modifier les dates, le périmètre et les thèmes, ajouter des couches de référence, archiver."),
      link("/admin/services", "Services", "Les services de vos collectivités, leur e-mail et leur webhook."),
      link("/admin/competences", "Table des compétences", "Qui traite quelle catégorie, où, depuis quand : chaque modification crée une nouvelle version."),
      link("/moderation", "Modération", "Contributions et commentaires retenus, signalés ou marqués.")),
  );
}

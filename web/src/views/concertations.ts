// Concertations: the list, and one concertation's map of contributions with
// theme filters, heatmap toggle, the contribution form, and the archive once closed.

import { api, ApiError } from "../api/client";
import { findConcertation, isOpen, loadConcertations, type Concertation, type Theme } from "../api/concertations";
import { loadContributions, type Contribution } from "../api/contributions";
import { errorBox, field, formatDay, h, mount, uid } from "../dom";
import { kindLabel } from "../labels";
import { terms } from "../api/vocabulary";
import { heading, type ViewContext } from "../router";
import { me } from "../session";
import { ConcertationLayers, bboxOf } from "../widgets/concertation_map";
import { contributionCard } from "../widgets/contribution";
import { DrawTool } from "../widgets/draw";
import { mountSearch } from "../widgets/search";

const PAGE = 20;

function newestFirst(items: Contribution[]): Contribution[] {
  return [...items].sort((a, b) => (b.properties.created_at ?? "").localeCompare(a.properties.created_at ?? "") || b.id - a.id);
}

function statusBadge(c: Concertation): HTMLElement {
  return h("span", { class: `badge status-${c.status}` }, c.status_label ?? c.status);
}

export async function concertationListView({ panel, map }: ViewContext): Promise<void> {
  mountSearch(map);
  const items = await loadConcertations();
  map.addOverlay(
    "perimeters",
    { perimeters: { type: "geojson", data: { type: "FeatureCollection", features: items.map((c) => ({ type: "Feature", properties: { slug: c.slug }, geometry: c.perimeter })) } } },
    [{ id: "perimeters-line", type: "line", source: "perimeters", paint: { "line-color": "#7c2d12", "line-width": 2.5, "line-dasharray": [3, 2] } }],
  );
  mount(
    panel,
    heading("Concertations"),
    h("p", { class: "lead" }, "Donnez votre avis sur les projets de votre territoire : proposez, constatez, questionnez, directement sur la carte."),
    items.length
      ? h(
          "ul",
          { class: "plain-list" },
          items.map((c) =>
            h(
              "li",
              { class: "card" },
              h("h2", { class: "h3" }, h("a", { href: `/concertations/${encodeURIComponent(c.slug)}` }, c.title)),
              h("p", null, statusBadge(c), c.closes_at ? ` jusqu'au ${formatDay(c.closes_at)}` : "",
                c.contributions !== undefined ? ` · ${c.contributions} contribution${c.contributions > 1 ? "s" : ""}` : ""),
              c.description ? h("p", { class: "muted clamp" }, c.description) : null,
            ),
          ),
        )
      : h("p", null, "Aucune concertation pour le moment."),
  );
}

function contributionForm(c: Concertation, ctx: ViewContext, onDone: () => void, onCancel: () => void): HTMLElement {
  const draw = new DrawTool(ctx.map, c.allowed_geometry_types?.length ? c.allowed_geometry_types : ["Point"]);
  const title = h("input", { type: "text", name: "title", required: true, minlength: 3, maxlength: 200 });
  const body = h("textarea", { name: "body", rows: 4, maxlength: 5000 });
  const theme = h("select", { name: "theme", required: true }, c.themes.map((t) => h("option", { value: t.slug }, t.label)));
  const kinds = c.allowed_kinds?.length ? c.allowed_kinds : terms("contribution_kind").map((t) => t.code);
  const kind = h("select", { name: "kind", required: true }, kinds.map((k) => h("option", { value: k }, kindLabel(k))));
  const out = h("div");
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Publier la contribution");
  const form = h(
    "form",
    { class: "stack card", "aria-labelledby": "contrib-form-title" },
    h("h2", { id: "contrib-form-title", class: "h3" }, "Nouvelle contribution"),
    draw.element,
    field("Titre", title),
    field("Votre contribution", body, "Pas de données personnelles (téléphone, adresse) : elle sera publique."),
    field("Thème", theme),
    field("Nature", kind),
    out,
    h("div", { class: "row" }, submit, h("button", { type: "button", class: "btn btn-ghost", onclick: () => { draw.destroy(); onCancel(); } }, "Annuler")),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const geometry = draw.geometry();
    if (!geometry) return mount(out, errorBox("Dessinez d'abord votre contribution sur la carte."));
    if (title.value.trim().length < 3) return mount(out, errorBox("Donnez un titre d'au moins 3 caractères."));
    submit.disabled = true;
    try {
      await api(`/api/v1/concertations/${c.id}/contributions`, {
        method: "POST",
        json: { type: "Feature", geometry, properties: { title: title.value.trim(), body: body.value.trim(), theme: theme.value, kind: kind.value } },
      });
      draw.destroy();
      onDone();
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Contribution refusée."));
    } finally {
      submit.disabled = false;
    }
  });
  ctx.map.addCleanup(() => draw.destroy());
  return form;
}

function themeFilters(themes: Theme[], visible: Set<string>, onChange: () => void): HTMLElement {
  return h(
    "fieldset",
    { class: "themes" },
    h("legend", null, "Thèmes affichés"),
    themes.map((t) => {
      const input = h("input", { type: "checkbox", id: uid("th"), checked: visible.has(t.slug) });
      input.addEventListener("change", () => {
        if (input.checked) visible.add(t.slug);
        else visible.delete(t.slug);
        onChange();
      });
      return h("label", { for: input.id, class: "check" }, input, h("span", { class: "theme-dot", style: `background:${t.color}` }), ` ${t.label}`);
    }),
  );
}

export async function concertationView(ctx: ViewContext): Promise<void> {
  const { panel, map, params } = ctx;
  mountSearch(map);
  const c = await findConcertation(params.slug);
  const open = isOpen(c);
  let items = newestFirst(await loadContributions(c));
  const visible = new Set(c.themes.map((t) => t.slug));
  const layers = new ConcertationLayers(map, c.perimeter, c.themes);
  map.addCleanup(() => layers.destroy());
  map.fit(bboxOf(c.perimeter), 14);

  const list = h("div", { class: "contributions" });
  const formSlot = h("div");
  let pageSize = PAGE;
  const renderList = (): void => {
    const shown = items.filter((i) => visible.has(i.properties.theme));
    layers.setData(items, visible);
    const more = shown.length > pageSize
      ? h("button", { type: "button", class: "btn btn-ghost", onclick: () => { pageSize += PAGE; renderList(); } }, `Afficher ${Math.min(PAGE, shown.length - pageSize)} contributions de plus`)
      : null;
    mount(
      list,
      h("h2", null, `Contributions (${shown.length})`),
      shown.length ? shown.slice(0, pageSize).map((i) => contributionCard(i, open)) : h("p", null, "Aucune contribution pour ces thèmes."),
      more,
    );
    map.refreshList();
  };
  /** Show a contribution's card (rendering more of the list if needed) and focus it. */
  const reveal = (id: number): void => {
    const index = items.filter((i) => visible.has(i.properties.theme)).findIndex((i) => i.id === id);
    if (index >= pageSize) {
      pageSize = Math.ceil((index + 1) / PAGE) * PAGE;
      renderList();
    }
    document.getElementById(`contribution-${id}`)?.focus();
  };
  const reload = async (): Promise<void> => {
    items = newestFirst(await loadContributions(c));
    renderList();
  };
  const showForm = (): void => {
    mount(formSlot, contributionForm(c, ctx, async () => {
      mount(formSlot, h("p", { class: "alert alert-ok", role: "status" }, "Merci : votre contribution est publiée."), addButton());
      await reload();
    }, () => mount(formSlot, addButton())));
    formSlot.querySelector("input")?.focus();
  };
  const addButton = (): HTMLElement =>
    me()
      ? h("button", { type: "button", class: "btn btn-primary", onclick: showForm }, "Ajouter une contribution")
      : h("p", null, h("a", { class: "btn btn-primary", href: `/connexion?next=${encodeURIComponent(window.location.pathname)}` }, "Se connecter pour contribuer"));
  const heat = h("input", { type: "checkbox", id: uid("heat") });
  heat.addEventListener("change", () => layers.setHeatmap(heat.checked));

  map.setPopup("contrib-points", (features) => {
    const id = Number(features[0].properties?.id);
    const item = items.find((i) => i.id === id);
    if (!item) return null;
    return [
      h("p", { class: "popup-title" }, item.properties.title ?? ""),
      h("button", { type: "button", class: "btn btn-small", onclick: () => reveal(id) }, "Voir la contribution"),
    ];
  });
  map.setListProvider(() => ({
    title: "Contributions de la concertation",
    items: items
      .filter((i) => visible.has(i.properties.theme))
      .map((i) => h("button", { type: "button", class: "linklike link", onclick: () => reveal(i.id) }, `${i.properties.title ?? ""} (${i.properties.theme_label ?? i.properties.theme})`)),
  }));

  mount(formSlot, open ? addButton() : h("div", { class: "alert alert-info" }, "Cette concertation est close : voici son archive en lecture seule. ", h("a", { href: `/concertations/${encodeURIComponent(c.slug)}/synthese` }, "Lire la synthèse")));
  mount(
    panel,
    h("p", { class: "crumb" }, h("a", { href: "/concertations" }, "Toutes les concertations")),
    heading(c.title),
    h("p", null, statusBadge(c), c.closes_at ? ` · clôture le ${formatDay(c.closes_at)}` : ""),
    c.description ? h("p", null, c.description) : null,
    h("p", null, h("a", { href: `/concertations/${encodeURIComponent(c.slug)}/synthese` }, "Synthèse et tableau de bord")),
    formSlot,
    themeFilters(c.themes, visible, renderList),
    h("label", { for: heat.id, class: "check" }, heat, " Carte de chaleur des contributions"),
    list,
  );
  renderList();
}

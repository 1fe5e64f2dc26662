// Concertations: the list, and one concertation's map of contributions with its
// reference and constraint layers, the contribution form, and the searchable list
// (search, theme, kind, order and page kept in the URL), or the archive once closed.

import { ApiError } from "../api/client";
import { findConcertation, isOpen, loadConcertations, type Concertation, type ConcertationDetail } from "../api/concertations";
import { createContribution, loadContributions, loadMine, type Contribution } from "../api/contributions";
import { errorBox, field, formatDay, h, mount } from "../dom";
import { kindLabel } from "../labels";
import { terms } from "../api/vocabulary";
import { heading, navigate, type ViewContext } from "../router";
import { me } from "../session";
import { ConcertationLayers, bboxOf } from "../widgets/concertation_map";
import { contributionHref } from "../widgets/contribution";
import { ContributionList, readListState } from "../widgets/contribution_list";
import { DrawTool } from "../widgets/draw";
import { mountSearch } from "../widgets/search";
import { ReferenceLayers } from "../widgets/reference_layers";

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

function contributionForm(c: Concertation, ctx: ViewContext, refs: ReferenceLayers, onDone: () => void, onCancel: () => void): HTMLElement {
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
    refs.constraintNotice(),
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
      await createContribution(c, {
        type: "Feature",
        geometry,
        properties: { title: title.value.trim(), body: body.value.trim(), theme: theme.value, kind: kind.value },
      });
      draw.destroy();
      onDone();
    } catch (err) {
      const reasons = err instanceof ApiError ? ((err.body as { reasons?: { layer?: string }[] } | null)?.reasons ?? []) : [];
      mount(out, errorBox(err instanceof ApiError ? err.message + refs.pointAt(reasons) : "Contribution refusée."));
    } finally {
      submit.disabled = false;
    }
  });
  ctx.map.addCleanup(() => draw.destroy());
  return form;
}

export async function concertationView(ctx: ViewContext): Promise<void> {
  const { panel, map, params, query } = ctx;
  mountSearch(map);
  const old = /^#contribution-(\d+)$/.exec(window.location.hash);
  if (old) return navigate(`/concertations/${encodeURIComponent(params.slug)}/contributions/${old[1]}`, true);
  const c = (await findConcertation(params.slug)) as ConcertationDetail;
  const open = isOpen(c);
  const [all, mine] = await Promise.all([loadContributions(c), loadMine(c, !!me())]);
  let items = all;
  const refs = new ReferenceLayers(map, c.reference_layers ?? []);
  await refs.draw();
  const layers = new ConcertationLayers(map, c.perimeter, c.themes);
  map.addCleanup(() => layers.destroy());
  map.fit(bboxOf(c.perimeter), 14);

  const list = new ContributionList(c, open, mine, readListState(query), (state) => {
    const shown = items.filter((i) => (!state.theme || i.properties.theme === state.theme) && (!state.kind || i.properties.kind === state.kind));
    layers.setData(shown, new Set(c.themes.map((t) => t.slug)));
    map.refreshList();
  });
  const formSlot = h("div");
  const reload = async (): Promise<void> => {
    items = await loadContributions(c);
    const fresh = await loadMine(c, !!me());
    Object.assign(mine, fresh);
    await list.render();
  };
  const showForm = (): void => {
    mount(formSlot, contributionForm(c, ctx, refs, async () => {
      const done = h("p", { class: "alert alert-ok", role: "status", tabindex: "-1" }, "Merci : votre contribution est publiée.");
      mount(formSlot, done, addButton());
      done.focus();
      await reload();
    }, () => mount(formSlot, addButton())));
    formSlot.querySelector<HTMLElement>("#constraint-notice, input")?.focus();
  };
  const addButton = (): HTMLElement =>
    me()
      ? h("button", { type: "button", class: "btn btn-primary", onclick: showForm }, "Ajouter une contribution")
      : h("p", null, h("a", { class: "btn btn-primary", href: `/connexion?next=${encodeURIComponent(window.location.pathname)}` }, "Se connecter pour contribuer"));
  const heat = h("input", { type: "checkbox", id: "heat-toggle" });
  heat.addEventListener("change", () => layers.setHeatmap(heat.checked));

  map.setPopup("contrib-points", (features) => {
    const id = Number(features[0].properties?.id);
    const item = items.find((i) => i.id === id);
    if (!item) return null;
    return [
      h("p", { class: "popup-title" }, item.properties.title ?? ""),
      h("a", { class: "btn btn-small", href: contributionHref(item) }, "Voir la contribution"),
    ];
  });
  map.setListProvider(() => ({
    title: "Contributions de la concertation",
    items: list.shownOnMap(items).map((i: Contribution) => h("a", { class: "link", href: contributionHref(i) }, `${i.properties.title ?? ""} (${i.properties.theme_label ?? i.properties.theme})`)),
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
    refs.legend(),
    h("label", { for: heat.id, class: "check" }, heat, " Carte de chaleur des contributions"),
    list.element,
  );
  await list.render();
}

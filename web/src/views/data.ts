// Planners: a layer panel (points, heatmaps), its legend, filters (category, state,
// period, visible area) that the map and the downloads both follow, and the OGC API
// address to paste into QGIS.

import { categories } from "../api/categories";
import { announce, formatDay, h, mount, uid } from "../dom";
import { stateOptions } from "../labels";
import type { CartoMap } from "../map";
import { heading, type ViewContext } from "../router";
import { downloads, type ExportFilters } from "../widgets/downloads";
import { showContributionTiles, showHeatmap, showSignalements } from "../widgets/layers";
import { mountSearch } from "../widgets/search";
import { legend } from "../widgets/legend";

function checkbox(label: string, checked: boolean, onChange: (on: boolean) => void): HTMLElement {
  const input = h("input", { type: "checkbox", id: uid("l"), checked });
  input.addEventListener("change", () => onChange(input.checked));
  return h("label", { for: input.id, class: "check" }, input, ` ${label}`);
}

function dateInput(): HTMLInputElement {
  return h("input", { type: "date", id: uid("l") });
}

/** What the downloads say they follow, in French. */
function describe(f: ExportFilters, catLabel: string, stLabel: string): string {
  const parts: string[] = [];
  if (f.service_code) parts.push(`catégorie « ${catLabel} »`);
  if (f.state) parts.push(`état « ${stLabel} »`);
  if (f.from || f.to) parts.push([f.from ? `du ${formatDay(f.from)}` : "", f.to ? `au ${formatDay(f.to)}` : ""].filter(Boolean).join(" "));
  if (f.bbox) parts.push("zone affichée sur la carte");
  if (!parts.length) return "Aucun filtre choisi : chaque fichier contient toute la couche.";
  return `Les fichiers suivent les filtres de la carte : ${parts.join(", ")} (catégorie et état pour les signalements, période pour les signalements et les contributions).`;
}

async function layerPanel(map: CartoMap): Promise<HTMLElement[]> {
  const cats = await categories();
  const state = { points: true, heat: false, contribs: false, contribHeat: false, service_code: "", st: "", from: "", to: "", inView: false };
  const key = legend(state);
  const dl = downloads();
  const bounds = (): ExportFilters["bbox"] => {
    const b = map.map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  };
  const cat = h("select", { id: uid("l") }, h("option", { value: "" }, "Toutes"), cats.map((c) => h("option", { value: c.code }, c.label)));
  const st = h("select", { id: uid("l") }, h("option", { value: "" }, "Tous"), stateOptions().filter(([k]) => k !== "submitted").map(([k, v]) => h("option", { value: k }, v)));
  const from = dateInput();
  const to = dateInput();
  const periodError = h("p", { id: uid("err"), class: "alert alert-error", role: "alert", hidden: true }, "La date de début doit précéder la date de fin.");
  const refreshDownloads = (): void => {
    const f: ExportFilters = { service_code: state.service_code, state: state.st, from: state.from, to: state.to, bbox: state.inView ? bounds() : null };
    dl.update(f, describe(f, cat.selectedOptions[0]?.text ?? "", st.selectedOptions[0]?.text ?? ""));
  };
  const apply = (): void => {
    const period = { from: state.from || null, to: state.to || null };
    const filter = { service_code: state.service_code || null, state: state.st || null, ...period };
    if (state.points) showSignalements(map, filter, "category");
    else map.removeOverlay("signalements");
    if (state.heat) showHeatmap(map, "signalements", filter);
    else map.removeOverlay("heatmap-signalements");
    if (state.contribs) showContributionTiles(map, period);
    else map.removeOverlay("contributions-tiles");
    if (state.contribHeat) showHeatmap(map, "contributions", period);
    else map.removeOverlay("heatmap-contributions");
    key.update(state);
    refreshDownloads();
  };
  const onPeriod = (): void => {
    const bad = !!from.value && !!to.value && from.value > to.value;
    periodError.hidden = !bad;
    for (const input of [from, to]) input.setAttribute("aria-invalid", String(bad));
    if (bad) return;
    state.from = from.value;
    state.to = to.value;
    apply();
  };
  for (const input of [from, to]) {
    input.setAttribute("aria-describedby", periodError.id);
    input.addEventListener("change", onPeriod);
  }
  cat.addEventListener("change", () => ((state.service_code = cat.value), apply()));
  st.addEventListener("change", () => ((state.st = st.value), apply()));
  const onMove = (): void => {
    if (state.inView) refreshDownloads();
  };
  map.map.on("moveend", onMove);
  map.addCleanup(() => map.map.off("moveend", onMove));
  apply();
  const layers = h(
    "section",
    { "aria-labelledby": "layers-title" },
    h("h2", { id: "layers-title" }, "Couches"),
    h(
      "fieldset",
      null,
      h("legend", null, "Afficher"),
      checkbox("Signalements (points)", true, (on) => ((state.points = on), apply())),
      checkbox("Carte de chaleur des signalements", false, (on) => ((state.heat = on), apply())),
      checkbox("Contributions aux concertations", false, (on) => ((state.contribs = on), apply())),
      checkbox("Carte de chaleur des contributions", false, (on) => ((state.contribHeat = on), apply())),
      checkbox("Limites des communes", true, (on) => map.setVisible("communes-line", on)),
    ),
  );
  const filters = h(
    "section",
    { "aria-labelledby": "filters-title" },
    h("h2", { id: "filters-title" }, "Filtres"),
    h("fieldset", null, h("legend", null, "Signalements"),
      h("div", { class: "field" }, h("label", { for: cat.id }, "Catégorie"), cat),
      h("div", { class: "field" }, h("label", { for: st.id }, "État"), st)),
    h("fieldset", null, h("legend", null, "Période de dépôt (signalements et contributions)"),
      h("div", { class: "period" },
        h("div", { class: "field" }, h("label", { for: from.id }, "Du"), from),
        h("div", { class: "field" }, h("label", { for: to.id }, "Au"), to)),
      periodError),
    checkbox("Télécharger seulement la zone affichée sur la carte", false, (on) => ((state.inView = on), refreshDownloads())),
  );
  return [layers, key.element, filters, dl.element];
}

function ogcBox(): HTMLElement {
  const url = `${window.location.origin}/ogc`;
  const input = h("input", { type: "text", readonly: true, value: url, id: uid("ogc"), class: "mono" });
  const copy = async (): Promise<void> => {
    input.select();
    try {
      await navigator.clipboard.writeText(url);
      announce("Adresse copiée.");
    } catch {
      announce("Sélectionnez l'adresse et copiez-la (Ctrl+C).");
    }
  };
  return h(
    "section",
    { "aria-labelledby": "ogc-title" },
    h("h2", { id: "ogc-title" }, "Dans QGIS (OGC API – Features)"),
    h("div", { class: "field" }, h("label", { for: input.id }, "Adresse du service"), h("div", { class: "row" }, input, h("button", { type: "button", class: "btn btn-small", onclick: copy }, "Copier"))),
    h("p", { class: "muted" }, "Dans QGIS : Couche › Ajouter une couche › Ajouter une couche WFS / OGC API – Features, puis « Nouveau » et collez cette adresse. Tuiles vectorielles : ",
      h("a", { href: "/tiles/signalements.json" }, "TileJSON des signalements"), "."),
  );
}

export async function dataView({ panel, map }: ViewContext): Promise<void> {
  mountSearch(map);
  const sections = await layerPanel(map);
  mount(panel, heading("Données et couches"), sections, ogcBox());
}

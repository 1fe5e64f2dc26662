// Planners: a layer panel (points, heatmaps, filters), download buttons for
// every public layer, and the OGC API address to paste into QGIS.

import { categories } from "../api/categories";
import { announce, h, mount, uid } from "../dom";
import { icon } from "../icons";
import { stateOptions } from "../labels";
import type { CartoMap } from "../map";
import { heading, type ViewContext } from "../router";
import { showContributionTiles, showHeatmap, showSignalements } from "../widgets/layers";
import { mountSearch } from "../widgets/search";

const EXPORT_LAYERS: [string, string][] = [
  ["signalements", "Signalements"],
  ["contributions", "Contributions"],
  ["communes", "Communes"],
  ["intercommunalites", "Intercommunalités"],
];

const FORMATS: [string, string][] = [
  ["gpkg", "GeoPackage"],
  ["geojson", "GeoJSON"],
  ["csv", "CSV"],
];

function checkbox(label: string, checked: boolean, onChange: (on: boolean) => void): HTMLElement {
  const input = h("input", { type: "checkbox", id: uid("l"), checked });
  input.addEventListener("change", () => onChange(input.checked));
  return h("label", { for: input.id, class: "check" }, input, ` ${label}`);
}

async function layerPanel(map: CartoMap): Promise<HTMLElement> {
  const cats = await categories();
  const state = { points: true, heat: false, contribs: false, contribHeat: false, service_code: "", st: "" };
  const apply = (): void => {
    const filter = { service_code: state.service_code || null, state: state.st || null };
    if (state.points) showSignalements(map, filter, "category");
    else map.removeOverlay("signalements");
    if (state.heat) showHeatmap(map, "signalements", filter);
    else map.removeOverlay("heatmap-signalements");
    if (state.contribs) showContributionTiles(map);
    else map.removeOverlay("contributions-tiles");
    if (state.contribHeat) showHeatmap(map, "contributions");
    else map.removeOverlay("heatmap-contributions");
  };
  const cat = h("select", { id: uid("l") }, h("option", { value: "" }, "Toutes"), cats.map((c) => h("option", { value: c.code }, c.label)));
  cat.addEventListener("change", () => ((state.service_code = cat.value), apply()));
  const st = h("select", { id: uid("l") }, h("option", { value: "" }, "Tous"), stateOptions().filter(([k]) => k !== "submitted").map(([k, v]) => h("option", { value: k }, v)));
  st.addEventListener("change", () => ((state.st = st.value), apply()));
  apply();
  return h(
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
    h("fieldset", null, h("legend", null, "Filtrer les signalements"),
      h("div", { class: "field" }, h("label", { for: cat.id }, "Catégorie"), cat),
      h("div", { class: "field" }, h("label", { for: st.id }, "État"), st)),
  );
}

function downloads(): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "dl-title" },
    h("h2", { id: "dl-title" }, "Télécharger les données"),
    h("p", { class: "muted" }, "Données publiques, sans donnée personnelle. Le GeoPackage s'ouvre stylé dans QGIS."),
    h(
      "table",
      { class: "downloads" },
      h("caption", { class: "sr-only" }, "Fichiers à télécharger par couche et par format"),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Couche"), FORMATS.map(([, l]) => h("th", { scope: "col" }, l)))),
      h(
        "tbody",
        null,
        EXPORT_LAYERS.map(([layer, label]) =>
          h("tr", null, h("th", { scope: "row" }, label),
            FORMATS.map(([ext, fl]) => h("td", null, h("a", { href: `/exports/${layer}.${ext}`, download: `${layer}.${ext}`, class: "btn btn-small btn-ghost", "aria-label": `${label} : .${ext} (${fl})` }, icon("download", 16), ` .${ext}`)))),
        ),
      ),
    ),
  );
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
  const layers = await layerPanel(map);
  mount(panel, heading("Données et couches"), layers, downloads(), ogcBox());
}

// The planner's download table: every public layer in every format, each link
// carrying the filters selected on the map (the exports take the OGC items'
// filters: property=value, `datetime`, `bbox`; the server validates them).

import { withQuery } from "../api/client";
import { h } from "../dom";
import { icon } from "../icons";

/** The map's filters, as the layer panel holds them ("" when unset). */
export interface ExportFilters {
  service_code: string;
  state: string;
  /** AAAA-MM-JJ, inclusive. */
  from: string;
  to: string;
  /** The visible extent (west, south, east, north) when downloads are limited to it. */
  bbox: [number, number, number, number] | null;
}

/** Which filters each layer has: only signalements have a category and a state. */
const LAYERS: { name: string; label: string; properties: boolean; dated: boolean }[] = [
  { name: "signalements", label: "Signalements", properties: true, dated: true },
  { name: "contributions", label: "Contributions", properties: false, dated: true },
  { name: "communes", label: "Communes", properties: false, dated: false },
  { name: "intercommunalites", label: "Intercommunalités", properties: false, dated: false },
];

const FORMATS: [string, string][] = [
  ["gpkg", "GeoPackage"],
  ["geojson", "GeoJSON"],
  ["csv", "CSV"],
];

function datetimeParam(from: string, to: string): string | null {
  if (!from && !to) return null;
  return `${from || ".."}/${to || ".."}`;
}

function bboxParam(b: ExportFilters["bbox"]): string | null {
  if (!b) return null;
  const clamp = (v: number, lim: number): number => Math.max(-lim, Math.min(lim, v));
  const [w, s, e, n] = [clamp(b[0], 180), clamp(b[1], 90), clamp(b[2], 180), clamp(b[3], 90)];
  return [w, s, e, n].map((v) => v.toFixed(5)).join(",");
}

/** The export URL of `layer` in `ext` for the filters that apply to it. */
export function exportUrl(layer: string, ext: string, f: ExportFilters): string {
  const spec = LAYERS.find((l) => l.name === layer);
  return withQuery(`/exports/${layer}.${ext}`, {
    service_code: spec?.properties ? f.service_code : null,
    state: spec?.properties ? f.state : null,
    datetime: spec?.dated ? datetimeParam(f.from, f.to) : null,
    bbox: bboxParam(f.bbox),
  });
}

/** The table and its `update` (called on every filter change and, with a bbox, every move). */
export function downloads(): { element: HTMLElement; update: (f: ExportFilters, summary: string) => void } {
  const links: { a: HTMLAnchorElement; layer: string; ext: string }[] = [];
  const summary = h("p", { id: "dl-filters", class: "hint", "aria-live": "polite" });
  const rows = LAYERS.map(({ name, label }) =>
    h("tr", null, h("th", { scope: "row" }, label),
      FORMATS.map(([ext, fl]) => {
        const a = h("a", { href: `/exports/${name}.${ext}`, download: `${name}.${ext}`, class: "btn btn-small btn-ghost", "aria-label": `${label} : .${ext} (${fl})`, "aria-describedby": summary.id }, icon("download", 16), ` .${ext}`);
        links.push({ a, layer: name, ext });
        return h("td", null, a);
      })),
  );
  const element = h(
    "section",
    { "aria-labelledby": "dl-title" },
    h("h2", { id: "dl-title" }, "Télécharger les données"),
    h("p", { class: "muted" }, "Données publiques, sans donnée personnelle. Le GeoPackage s'ouvre stylé dans QGIS."),
    summary,
    h(
      "table",
      { class: "downloads" },
      h("caption", { class: "sr-only" }, "Fichiers à télécharger par couche et par format"),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Couche"), FORMATS.map(([, l]) => h("th", { scope: "col" }, l)))),
      h("tbody", null, rows),
    ),
  );
  const update = (f: ExportFilters, text: string): void => {
    for (const { a, layer, ext } of links) a.href = exportUrl(layer, ext, f);
    summary.textContent = text;
  };
  return { element, update };
}

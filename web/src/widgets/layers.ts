// Overlays several views share: signalements from the vector tiles, heatmaps,
// contributions tiles; each with its popup and its entry in the list view.

import type { MapGeoJSONFeature } from "maplibre-gl";
import { formatDay, h } from "../dom";
import { CATEGORY_COLORS, categoryColor, kindLabel, STATE_COLORS, stateLabel } from "../labels";
import { tileUrl, type CartoMap } from "../map";
import { termLabel } from "../api/vocabulary";
import { aggregateCount, aggregatePopup, isAggregate } from "./aggregates";

export interface SignalementFilter {
  service_code?: string | null;
  state?: string | null;
  /** Period (AAAA-MM-JJ, inclusive), as the tiles' `from` and `to`. */
  from?: string | null;
  to?: string | null;
}

function matchColor(prop: string, colors: Record<string, string>, fallback: string): unknown {
  const pairs = Object.entries(colors).flat();
  return ["match", ["get", prop], ...pairs, fallback];
}

function featureId(f: MapGeoJSONFeature): string {
  return String(f.properties?.id ?? f.id ?? "");
}

/** A category's French label from the server's vocabulary (never the bare code). */
function categoryName(code: unknown): string {
  return code == null ? "" : termLabel("category", String(code));
}

function signalementItem(f: MapGeoJSONFeature): HTMLElement {
  const p = f.properties ?? {};
  const id = featureId(f);
  return h(
    "span",
    null,
    h("a", { href: `/suivi/${encodeURIComponent(id)}` }, `Signalement n° ${id}`),
    ` — ${categoryName(p.service_code)}, ${stateLabel(p.state)}`,
    p.created_at ? `, ${formatDay(String(p.created_at))}` : "",
  );
}

/** Signalements from `/tiles/signalements`, coloured by state (or category), with popups. */
export function showSignalements(map: CartoMap, filter: SignalementFilter, colorBy: "state" | "category" = "state"): void {
  const tiles = [tileUrl("/tiles/signalements/{z}/{x}/{y}.mvt", { service_code: filter.service_code, state: filter.state, from: filter.from, to: filter.to })];
  const color =
    colorBy === "state" ? matchColor("state", STATE_COLORS, "#1d4f91") : matchColor("service_code", CATEGORY_COLORS, "#1d4f91");
  // A grid group (no id) is drawn as a group even when it holds one report.
  const isCluster = ["any", [">", ["coalesce", ["get", "count"], 1], 1], ["!", ["has", "id"]]];
  const clusterRadius = ["interpolate", ["linear"], ["get", "count"], 2, 7, 50, 14, 1000, 26];
  map.addOverlay("signalements", { signalements: { type: "vector", tiles, maxzoom: 16 } }, [
    {
      id: "signalements-points",
      type: "circle",
      source: "signalements",
      "source-layer": "signalements",
      paint: {
        "circle-color": ["case", isCluster, "#334e68", color] as never,
        "circle-opacity": ["case", isCluster, 0.75, 1] as never,
        "circle-radius": [
          "interpolate",
          ["linear"],
          ["zoom"],
          8,
          ["case", isCluster, clusterRadius, 3],
          15,
          ["case", isCluster, clusterRadius, 7],
        ] as never,
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1.2,
      },
    },
  ]);
  map.setPopup("signalements-points", (features) => {
    const f = features[0];
    const p = f.properties ?? {};
    if (isAggregate(f)) return aggregatePopup(map, f, "signalement", "signalements");
    return [
      h("p", { class: "popup-title" }, `Signalement n° ${featureId(f)}`),
      h("p", null, `${categoryName(p.service_code)} — ${stateLabel(p.state)}`),
      p.supports ? h("p", null, `${p.supports} soutien${Number(p.supports) > 1 ? "s" : ""}`) : null,
      h("a", { href: `/suivi/${encodeURIComponent(featureId(f))}` }, "Voir le suivi"),
    ];
  });
  map.setListProvider(() => {
    const visible = map.visibleFeatures(["signalements-points"]);
    const singles = visible.filter((f) => !isAggregate(f));
    const grouped = visible.filter(isAggregate).reduce((n, f) => n + aggregateCount(f), 0);
    return {
      title: "Signalements visibles sur la carte",
      items: [
        ...singles.slice(0, 100).map(signalementItem),
        ...(grouped ? [`${grouped} signalement${grouped > 1 ? "s" : ""} regroupé${grouped > 1 ? "s" : ""} : zoomez pour les lister un par un.`] : []),
      ],
    };
  });
}

/** The server's density heatmap of `layer` (`signalements` or `contributions`). */
export function showHeatmap(map: CartoMap, layer: string, query: Record<string, string | null | undefined> = {}): void {
  map.addOverlay(`heatmap-${layer}`, {
    [`heatmap-${layer}`]: {
      type: "raster",
      tiles: [tileUrl(`/tiles/heatmap/${layer}/{z}/{x}/{y}.png`, query)],
      tileSize: 256,
    },
  }, [{ id: `heatmap-${layer}`, type: "raster", source: `heatmap-${layer}`, paint: { "raster-opacity": 0.75 } }]);
}

/** Every concertation's contributions from `/tiles/contributions`, coloured by their theme colour when given. */
export function showContributionTiles(map: CartoMap, query: Record<string, string | null | undefined> = {}): void {
  const tiles = [tileUrl("/tiles/contributions/{z}/{x}/{y}.mvt", query)];
  const color = ["coalesce", ["get", "color"], "#7c3aed"];
  map.addOverlay("contributions-tiles", { "contributions-tiles": { type: "vector", tiles, maxzoom: 16 } }, [
    { id: "contrib-t-fill", type: "fill", source: "contributions-tiles", "source-layer": "contributions", filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": color as never, "fill-opacity": 0.3 } },
    { id: "contrib-t-line", type: "line", source: "contributions-tiles", "source-layer": "contributions", filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": color as never, "line-width": 2.5 } },
    {
      id: "contrib-t-point",
      type: "circle",
      source: "contributions-tiles",
      "source-layer": "contributions",
      filter: ["==", ["geometry-type"], "Point"],
      paint: {
        "circle-color": color as never,
        "circle-opacity": 0.85,
        "circle-radius": ["interpolate", ["linear"], ["coalesce", ["get", "count"], 1], 1, 5, 20, 10, 200, 18] as never,
        "circle-stroke-color": "#fff",
        "circle-stroke-width": 1.5,
      },
    },
  ]);
  const popup = (features: MapGeoJSONFeature[]) => {
    const p = features[0].properties ?? {};
    if (isAggregate(features[0])) return aggregatePopup(map, features[0], "contribution", "contributions");
    return [
      h("p", { class: "popup-title" }, String(p.title ?? "Contribution")),
      h("p", null, `${kindLabel(p.kind == null ? null : String(p.kind))} — ${p.theme ?? ""}`),
      p.concertation ? h("a", { href: `/concertations/${encodeURIComponent(String(p.concertation))}` }, "Voir la concertation") : null,
    ];
  };
  for (const id of ["contrib-t-fill", "contrib-t-line", "contrib-t-point"]) map.setPopup(id, popup);
}

export { categoryColor };

// Under the tiles' clustering zoom a point is a cell of the density grid, not a
// report: it carries a `count` and no `id`. Its popup says what it really is and
// offers to zoom in, instead of a "n° —" with a link to nowhere.

import type { MapGeoJSONFeature } from "maplibre-gl";
import { h, type Child } from "../dom";
import type { CartoMap } from "../map";

/** The first zoom at which the tiles hold single features (the server's `cluster_below`). */
export const DETAIL_ZOOM = 12;

/** True when the feature is a group from the density grid (no id of its own). */
export function isAggregate(f: MapGeoJSONFeature): boolean {
  const p = f.properties ?? {};
  return p.id === undefined || p.id === null || p.id === "" || Number(p.count ?? 1) > 1;
}

export function aggregateCount(f: MapGeoJSONFeature): number {
  return Math.max(1, Number(f.properties?.count ?? 1) || 1);
}

/** Zoom on the group: to the detail zoom at least, further for big groups. */
export function zoomOnAggregate(map: CartoMap, f: MapGeoJSONFeature): void {
  const g = f.geometry as GeoJSON.Point;
  const zoom = Math.min(Math.max(map.map.getZoom() + 3, DETAIL_ZOOM + (aggregateCount(f) > 1 ? 0 : 2)), 17);
  map.map.easeTo({ center: g.coordinates as [number, number], zoom });
}

/** « 12 signalements ici — zoomez pour les détails », with a button that zooms. */
export function aggregatePopup(map: CartoMap, f: MapGeoJSONFeature, singular: string, plural: string): Child {
  const n = aggregateCount(f);
  return [
    h("p", { class: "popup-title" }, `${n} ${n > 1 ? plural : singular} ici — zoomez pour les détails`),
    h("button", { type: "button", class: "btn btn-small", onclick: () => zoomOnAggregate(map, f) }, "Zoomer ici"),
  ];
}

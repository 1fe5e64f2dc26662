// A concertation on the map: its perimeter, its contributions coloured by
// theme, clustered at low zoom (with counts), and a heatmap toggle.

import { Marker, type GeoJSONSource } from "maplibre-gl";
import { h } from "../dom";
import type { CartoMap } from "../map";
import type { Theme } from "../api/concertations";
import type { Contribution } from "../api/contributions";


/** A representative point of a geometry (point, middle vertex of a line, mean of a ring). */
export function anchorOf(g: GeoJSON.Geometry | null): [number, number] | null {
  if (!g) return null;
  if (g.type === "Point") return g.coordinates as [number, number];
  if (g.type === "LineString") return g.coordinates[Math.floor(g.coordinates.length / 2)] as [number, number];
  if (g.type === "Polygon") {
    const ring = g.coordinates[0].slice(0, -1);
    const n = ring.length || 1;
    return [ring.reduce((a, c) => a + c[0], 0) / n, ring.reduce((a, c) => a + c[1], 0) / n];
  }
  if (g.type === "MultiPolygon") return anchorOf({ type: "Polygon", coordinates: g.coordinates[0] });
  return null;
}

/** [west, south, east, north] of any geometry. */
export function bboxOf(g: GeoJSON.Geometry): [number, number, number, number] {
  const b: [number, number, number, number] = [180, 90, -180, -90];
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === "number") {
      b[0] = Math.min(b[0], c[0] as number);
      b[1] = Math.min(b[1], c[1] as number);
      b[2] = Math.max(b[2], c[0] as number);
      b[3] = Math.max(b[3], c[1] as number);
    } else if (Array.isArray(c)) c.forEach(visit);
  };
  if ("coordinates" in g) visit(g.coordinates);
  return b;
}

function themeColor(themes: Theme[]): unknown {
  return ["match", ["get", "theme"], ...themes.flatMap((t) => [t.slug, t.color]), "#1d4f91"];
}

export class ConcertationLayers {
  private clusterMarkers = new Map<number, Marker>();
  private heat = false;

  constructor(
    private map: CartoMap,
    perimeter: GeoJSON.Geometry,
    themes: Theme[],
  ) {
    const color = themeColor(themes) as never;
    map.addOverlay(
      "concertation",
      {
        perimeter: { type: "geojson", data: { type: "Feature", properties: {}, geometry: perimeter } },
        contrib: { type: "geojson", data: empty() },
        "contrib-anchors": { type: "geojson", data: empty(), cluster: true, clusterMaxZoom: 13, clusterRadius: 45 },
      },
      [
        { id: "perimeter-line", type: "line", source: "perimeter", paint: { "line-color": "#7c2d12", "line-width": 2.5, "line-dasharray": [3, 2] } },
        { id: "contrib-heat", type: "heatmap", source: "contrib-anchors", layout: { visibility: "none" }, paint: { "heatmap-radius": 30, "heatmap-opacity": 0.8 } },
        { id: "contrib-fill", type: "fill", source: "contrib", filter: ["==", ["geometry-type"], "Polygon"], minzoom: 12, paint: { "fill-color": color, "fill-opacity": 0.3 } },
        { id: "contrib-line", type: "line", source: "contrib", filter: ["!=", ["geometry-type"], "Point"], minzoom: 12, paint: { "line-color": color, "line-width": 3 } },
        { id: "contrib-clusters", type: "circle", source: "contrib-anchors", filter: ["has", "point_count"], paint: { "circle-color": "#1d4f91", "circle-opacity": 0.85, "circle-radius": ["step", ["get", "point_count"], 14, 10, 18, 50, 24], "circle-stroke-color": "#fff", "circle-stroke-width": 2 } },
        { id: "contrib-points", type: "circle", source: "contrib-anchors", filter: ["!", ["has", "point_count"]], paint: { "circle-color": color, "circle-radius": 7, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } },
      ],
    );
    map.map.on("moveend", this.updateClusterCounts);
    map.map.on("sourcedata", this.onSourceData);
    map.map.on("click", "contrib-clusters", this.zoomIntoCluster);
  }

  private onSourceData = (ev: { sourceId?: string; isSourceLoaded?: boolean }): void => {
    if (ev.sourceId === "contrib-anchors" && ev.isSourceLoaded) this.updateClusterCounts();
  };

  private zoomIntoCluster = async (ev: { features?: { properties: Record<string, unknown>; geometry: GeoJSON.Geometry }[] }): Promise<void> => {
    const f = ev.features?.[0];
    const src = this.map.map.getSource("contrib-anchors") as GeoJSONSource | undefined;
    if (!f || !src) return;
    const zoom = await src.getClusterExpansionZoom(Number(f.properties.cluster_id));
    this.map.map.easeTo({ center: (f.geometry as GeoJSON.Point).coordinates as [number, number], zoom });
  };

  /** Show the contributions whose theme is in `visibleThemes`. */
  setData(items: Contribution[], visibleThemes: Set<string>): void {
    const shown = items.filter((c) => c.geometry && visibleThemes.has(c.properties.theme));
    const props = (c: Contribution) => ({ id: c.id, theme: c.properties.theme, title: c.properties.title ?? "" });
    this.map.setGeoJSON("contrib", {
      type: "FeatureCollection",
      features: shown.map((c) => ({ type: "Feature", id: c.id, properties: props(c), geometry: c.geometry! })),
    });
    this.map.setGeoJSON("contrib-anchors", {
      type: "FeatureCollection",
      features: shown.flatMap((c) => {
        const a = anchorOf(c.geometry);
        return a ? [{ type: "Feature" as const, properties: props(c), geometry: { type: "Point" as const, coordinates: a } }] : [];
      }),
    });
  }

  setHeatmap(on: boolean): void {
    this.heat = on;
    this.map.setVisible("contrib-heat", on);
    this.map.setVisible("contrib-clusters", !on);
    this.map.setVisible("contrib-points", !on);
    this.updateClusterCounts();
  }

  /** Counts on the cluster circles, as HTML (no glyph server needed); hidden from screen readers. */
  private updateClusterCounts = (): void => {
    const m = this.map.map;
    const seen = new Set<number>();
    if (!this.heat && m.getSource("contrib-anchors")) {
      for (const f of m.querySourceFeatures("contrib-anchors", { filter: ["has", "point_count"] })) {
        const id = Number(f.properties.cluster_id);
        if (seen.has(id)) continue;
        seen.add(id);
        if (!this.clusterMarkers.has(id)) {
          const el = h("div", { class: "cluster-count", "aria-hidden": "true" }, String(f.properties.point_count));
          const at = (f.geometry as GeoJSON.Point).coordinates as [number, number];
          this.clusterMarkers.set(id, new Marker({ element: el }).setLngLat(at).addTo(m));
        }
      }
    }
    for (const [id, marker] of this.clusterMarkers) {
      if (!seen.has(id)) {
        marker.remove();
        this.clusterMarkers.delete(id);
      }
    }
  };

  destroy(): void {
    this.map.map.off("moveend", this.updateClusterCounts);
    this.map.map.off("sourcedata", this.onSourceData);
    this.map.map.off("click", "contrib-clusters", this.zoomIntoCluster);
    for (const marker of this.clusterMarkers.values()) marker.remove();
    this.clusterMarkers.clear();
  }
}

function empty(): GeoJSON.FeatureCollection {
  return { type: "FeatureCollection", features: [] };
}

// The one MapLibre map every view shares: its own base from Carto's vector
// tiles (or a configured base map), and the overlays views add and remove.

import {
  Map as MlMap,
  Marker,
  NavigationControl,
  Popup,
  ScaleControl,
  setWorkerUrl,
  type GeoJSONSource,
  type LayerSpecification,
  type LngLatLike,
  type MapGeoJSONFeature,
  type Point,
  type SourceSpecification,
  type StyleSpecification,
  type VectorTileSource,
} from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?url";
import { withQuery } from "./api/client";
import type { Basemap, WebConfig } from "./api/config";
import { loadStreets } from "./api/streets";
import { h, mount, type Child } from "./dom";

setWorkerUrl(workerUrl);

export type LngLat = { lng: number; lat: number };
export type ClickHandler = (at: LngLat) => void;
/** Turns the features under a click into the popup's content (null: no popup). */
export type PopupRenderer = (features: MapGeoJSONFeature[]) => Child | null;
/** What the accessible list view shows for the current view of the map. */
export type ListProvider = () => { title: string; items: Child[] };

const ORIGIN = window.location.origin;

/** Absolute tile URL template (MapLibre's workers need absolute URLs). */
export function tileUrl(path: string, query?: Record<string, string | null | undefined>): string {
  return ORIGIN + withQuery(path, query).replace(/%7B/g, "{").replace(/%7D/g, "}");
}

const LOCALE = {
  "Map.Title": "Carte interactive",
  "NavigationControl.ZoomIn": "Zoomer",
  "NavigationControl.ZoomOut": "Dézoomer",
  "NavigationControl.ResetBearing": "Réorienter vers le nord",
  "Popup.Close": "Fermer",
  "AttributionControl.ToggleAttribution": "Afficher les crédits",
  "ScaleControl.Meters": "m",
  "ScaleControl.Kilometers": "km",
};

/** Below this zoom the map does not ask for streets (the API caps the box too). */
const STREET_MINZOOM = 14.5;
const LABEL_MINZOOM = 15;
/** The fontstack of carto/tiles/glyphs.py, served at /tiles/glyphs/. */
const GLYPH_FONT = "DejaVu Sans";
const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };

/** The streets Carto imported (`carto import streets`), drawn at street zoom when no
 * external base map is configured; without streets the commune fills and outlines
 * stay (vector tiles overzoomed from their maxzoom up to 19). */
function streetLayers(): StyleSpecification["layers"] {
  const major = ["in", ["get", "road_class"], ["literal", ["autoroute", "nationale", "departementale", "principale"]]];
  return [
    {
      id: "streets-casing",
      type: "line",
      source: "streets",
      minzoom: STREET_MINZOOM,
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": "#b7c0c9", "line-width": ["interpolate", ["exponential", 1.6], ["zoom"], 15, ["case", major as never, 5, 3], 19, ["case", major as never, 26, 16]] },
    },
    {
      id: "streets-line",
      type: "line",
      source: "streets",
      minzoom: STREET_MINZOOM,
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": ["case", major as never, "#fff3c4", "#ffffff"], "line-width": ["interpolate", ["exponential", 1.6], ["zoom"], 15, ["case", major as never, 3.5, 2], 19, ["case", major as never, 22, 13]] },
    },
    {
      // Street names along the lines, from the glyphs the app builds at install time.
      id: "streets-label",
      type: "symbol",
      source: "streets",
      minzoom: LABEL_MINZOOM,
      filter: ["has", "name"],
      layout: {
        "symbol-placement": "line",
        "text-field": ["get", "name"],
        "text-font": [GLYPH_FONT],
        "text-size": ["interpolate", ["linear"], ["zoom"], 15, 11, 19, 16],
        "text-max-angle": 35,
        "text-padding": 4,
      },
      paint: { "text-color": "#33404d", "text-halo-color": "#ffffff", "text-halo-width": 1.6 },
    },
  ];
}

function territoryLayers(withBasemap: boolean): StyleSpecification["layers"] {
  return [
    {
      id: "communes-fill",
      type: "fill",
      source: "communes",
      "source-layer": "communes",
      paint: { "fill-color": "#f4f2ed", "fill-opacity": withBasemap ? 0 : 0.9 },
    },
    {
      id: "communes-line",
      type: "line",
      source: "communes",
      "source-layer": "communes",
      paint: { "line-color": "#8a96a3", "line-width": ["interpolate", ["linear"], ["zoom"], 8, 0.4, 14, 1.4] },
    },
    {
      id: "epci-line",
      type: "line",
      source: "intercommunalites",
      "source-layer": "intercommunalites",
      paint: { "line-color": "#1d4f91", "line-width": 2.2 },
    },
  ];
}

function territorySources(): StyleSpecification["sources"] {
  return {
    communes: { type: "vector", tiles: [tileUrl("/tiles/communes/{z}/{x}/{y}.mvt")], maxzoom: 14 },
    intercommunalites: {
      type: "vector",
      tiles: [tileUrl("/tiles/intercommunalites/{z}/{x}/{y}.mvt")],
      maxzoom: 12,
    },
  };
}

function ownStyle(basemap: Basemap | null): StyleSpecification {
  const sources: StyleSpecification["sources"] = territorySources();
  if (!basemap) sources.streets = { type: "geojson", data: EMPTY };
  const layers: StyleSpecification["layers"] = [
    { id: "background", type: "background", paint: { "background-color": "#dfe6ec" } },
  ];
  if (basemap?.kind === "raster") {
    sources.basemap = {
      type: "raster",
      tiles: [basemap.url],
      tileSize: 256,
      attribution: basemap.attribution ?? undefined,
    };
    layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  const territory = territoryLayers(!!basemap);
  // Streets above the commune fills, under the outlines.
  const streets = basemap ? [] : streetLayers();
  return {
    version: 8,
    glyphs: tileUrl("/tiles/glyphs/{fontstack}/{range}.pbf"),
    sources,
    layers: [...layers, territory[0], ...streets, ...territory.slice(1)],
  };
}

export class CartoMap {
  readonly map: MlMap;
  readonly ready: Promise<void>;
  private clickHandler: ClickHandler | null = null;
  private popupRenderers = new Map<string, PopupRenderer>();
  private listProvider: ListProvider | null = null;
  private overlays = new Set<string>();
  private marker: Marker | null = null;
  private popup: Popup | null = null;
  readonly config: WebConfig;

  constructor(container: HTMLElement, config: WebConfig) {
    this.config = config;
    const bounds = this.allBounds();
    this.map = new MlMap({
      container,
      style: config.basemap?.kind === "style" ? config.basemap.url : ownStyle(config.basemap),
      bounds: bounds ?? undefined,
      center: bounds ? undefined : [2.6, 47.0],
      zoom: bounds ? undefined : 5,
      fitBoundsOptions: { padding: 20 },
      locale: LOCALE,
      attributionControl: { compact: true },
      maxZoom: 19,
      canvasContextAttributes: { preserveDrawingBuffer: true },
    });
    this.map.addControl(new NavigationControl({ showCompass: false }), "top-right");
    this.map.addControl(new ScaleControl({ unit: "metric" }), "bottom-left");
    this.ready = new Promise((resolve) => {
      this.map.once("load", () => {
        if (config.basemap?.kind === "style") this.addTerritoriesOnTop();
        resolve();
      });
    });
    this.map.on("click", (ev) => this.onClick({ lng: ev.lngLat.lng, lat: ev.lngLat.lat }, ev.point));
    this.map.on("moveend", () => {
      this.refreshList();
      void this.refreshStreets();
    });
    this.map.on("mousemove", (ev) => {
      const layers = this.interactiveLayers();
      const hit = !this.clickHandler && layers.length > 0 && this.map.queryRenderedFeatures(ev.point, { layers }).length > 0;
      this.map.getCanvas().style.cursor = this.clickHandler ? "crosshair" : hit ? "pointer" : "";
    });
    this.setupListToggle();
    if (config.basemapUnreachable) this.basemapNotice(container);
  }

  /** `CARTO_BASEMAP=auto` offline: say discreetly that the own base is shown instead. */
  private basemapNotice(container: HTMLElement): void {
    const note = h("p", { class: "map-notice", role: "status", "data-testid": "basemap-notice" },
      "Fond de carte IGN injoignable : fond hors ligne de Carto affiché.");
    container.parentElement?.append(note);
  }

  private streetsBox = "";

  /** Load the streets of the view at street zoom (the own base map only). */
  private async refreshStreets(): Promise<void> {
    if (this.config.basemap || !this.map.getSource("streets") || this.map.getZoom() < STREET_MINZOOM) return;
    const b = this.map.getBounds();
    // A margin around the view, rounded so small pans reuse the loaded box.
    const r = (v: number, up: boolean): number => (up ? Math.ceil(v * 200) : Math.floor(v * 200)) / 200;
    const box = [r(b.getWest(), false), r(b.getSouth(), false), r(b.getEast(), true), r(b.getNorth(), true)].join(",");
    if (box === this.streetsBox) return;
    this.streetsBox = box;
    try {
      const streets = await loadStreets(box);
      if (streets && box === this.streetsBox) this.setGeoJSON("streets", streets);
    } catch {
      // No streets: the commune fills remain.
    }
  }

  private addTerritoriesOnTop(): void {
    for (const [id, src] of Object.entries(territorySources())) this.map.addSource(id, src);
    for (const layer of territoryLayers(true)) this.map.addLayer(layer);
  }

  /** The extent of every territory of the deployment, or null when none is known. */
  allBounds(): [number, number, number, number] | null {
    const t = this.config.territories;
    if (!t.length) return null;
    return [
      Math.min(...t.map((x) => x.bbox[0])),
      Math.min(...t.map((x) => x.bbox[1])),
      Math.max(...t.map((x) => x.bbox[2])),
      Math.max(...t.map((x) => x.bbox[3])),
    ];
  }

  fit(bbox: [number, number, number, number], maxZoom = 15): void {
    this.map.fitBounds(bbox, { padding: 30, maxZoom, duration: 0 });
  }

  private cleanups: (() => void)[] = [];

  /** Run `fn` at the next reset (a view's listeners and markers). */
  addCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Clear what a view added: overlays, marker, click mode, popups, list. */
  reset(): void {
    for (const fn of this.cleanups.splice(0)) fn();
    this.setClickHandler(null);
    this.setMarker(null);
    this.popup?.remove();
    this.popupRenderers.clear();
    this.listProvider = null;
    for (const id of [...this.overlays]) this.removeOverlay(id);
    this.refreshList();
  }

  setClickHandler(handler: ClickHandler | null): void {
    this.clickHandler = handler;
    document.getElementById("crosshair")!.hidden = handler === null;
    this.map.getCanvas().style.cursor = handler ? "crosshair" : "";
  }

  /** Show features of `layerId` in a popup on click, rendered by `render`. */
  setPopup(layerId: string, render: PopupRenderer): void {
    this.popupRenderers.set(layerId, render);
  }

  setListProvider(provider: ListProvider | null): void {
    this.listProvider = provider;
    this.refreshList();
  }

  center(): LngLat {
    const c = this.map.getCenter();
    return { lng: c.lng, lat: c.lat };
  }

  private onMarkerDrag: ((at: LngLat) => void) | null = null;

  /** The draggable position marker of the report form (null removes it). */
  setMarker(at: LngLat | null, onDrag?: (at: LngLat) => void): void {
    this.onMarkerDrag = onDrag ?? null;
    if (!at) {
      this.marker?.remove();
      this.marker = null;
      return;
    }
    if (!this.marker) {
      const el = h("div", { class: "pin", role: "img", "aria-label": "Position choisie" });
      const marker = new Marker({ element: el, draggable: true, anchor: "bottom" });
      marker.on("dragend", () => {
        const p = marker.getLngLat();
        this.onMarkerDrag?.({ lng: p.lng, lat: p.lat });
      });
      this.marker = marker;
    }
    this.marker.setLngLat([at.lng, at.lat]).addTo(this.map);
  }

  flyTo(at: LngLatLike, zoom = 16): void {
    this.map.jumpTo({ center: at, zoom: Math.max(zoom, this.map.getZoom()) });
  }

  /** Add (or replace) an overlay: sources and layers removed together by `removeOverlay`. */
  addOverlay(id: string, sources: Record<string, SourceSpecification>, layers: LayerSpecification[]): void {
    this.removeOverlay(id);
    for (const [sid, src] of Object.entries(sources)) this.map.addSource(sid, src);
    for (const layer of layers) this.map.addLayer(layer);
    this.overlays.add(id);
    this.overlayParts.set(id, { sources: Object.keys(sources), layers: layers.map((l) => l.id) });
  }

  private overlayParts = new Map<string, { sources: string[]; layers: string[] }>();

  removeOverlay(id: string): void {
    const parts = this.overlayParts.get(id);
    if (!parts) return;
    for (const l of parts.layers) if (this.map.getLayer(l)) this.map.removeLayer(l);
    for (const s of parts.sources) if (this.map.getSource(s)) this.map.removeSource(s);
    for (const l of parts.layers) this.popupRenderers.delete(l);
    this.overlays.delete(id);
    this.overlayParts.delete(id);
  }

  hasOverlay(id: string): boolean {
    return this.overlays.has(id);
  }

  setGeoJSON(sourceId: string, data: GeoJSON.GeoJSON): void {
    (this.map.getSource(sourceId) as GeoJSONSource | undefined)?.setData(data);
  }

  setTiles(sourceId: string, tiles: string[]): void {
    (this.map.getSource(sourceId) as VectorTileSource | undefined)?.setTiles(tiles);
  }

  setVisible(layerId: string, visible: boolean): void {
    if (this.map.getLayer(layerId)) this.map.setLayoutProperty(layerId, "visibility", visible ? "visible" : "none");
  }

  private interactiveLayers(): string[] {
    return [...this.popupRenderers.keys()].filter((id) => this.map.getLayer(id));
  }

  /** Features of the popup-enabled layers in the current view, deduplicated by id. */
  visibleFeatures(layerIds?: string[]): MapGeoJSONFeature[] {
    const layers = (layerIds ?? this.interactiveLayers()).filter((id) => this.map.getLayer(id));
    if (!layers.length) return [];
    const seen = new Set<string>();
    return this.map.queryRenderedFeatures({ layers }).filter((f) => {
      // Grid groups have no id: their position tells them apart.
      const key = `${f.layer.id}:${f.properties?.id ?? f.id ?? JSON.stringify((f.geometry as GeoJSON.Point).coordinates)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  private onClick(at: LngLat, point: Point): void {
    if (this.clickHandler) {
      this.clickHandler(at);
      return;
    }
    const layers = this.interactiveLayers();
    if (!layers.length) return;
    const features = this.map.queryRenderedFeatures(point, { layers });
    if (!features.length) return;
    const render = this.popupRenderers.get(features[0].layer.id);
    const content = render?.(features.filter((f) => f.layer.id === features[0].layer.id));
    if (!content) return;
    const box = h("div", { class: "popup" }, content);
    this.popup?.remove();
    this.popup = new Popup({ maxWidth: "320px", focusAfterOpen: true }).setLngLat([at.lng, at.lat]).setDOMContent(box).addTo(this.map);
  }

  private setupListToggle(): void {
    const btn = document.getElementById("list-toggle") as HTMLButtonElement;
    const panel = document.getElementById("map-list") as HTMLElement;
    btn.addEventListener("click", () => {
      const open = panel.hidden;
      panel.hidden = !open;
      btn.setAttribute("aria-expanded", String(open));
      if (open) this.refreshList();
    });
  }

  /** Redraw the accessible list of what the map shows (when open). */
  refreshList(): void {
    const panel = document.getElementById("map-list");
    if (!panel || panel.hidden) return;
    const data = this.listProvider?.() ?? { title: "Éléments affichés", items: [] };
    mount(
      panel,
      h("h2", { class: "h3" }, data.title),
      data.items.length
        ? h("ul", { class: "plain-list" }, data.items.map((it) => h("li", null, it)))
        : h("p", null, "Aucun élément dans la partie visible de la carte."),
    );
  }
}

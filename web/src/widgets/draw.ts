// Drawing a point, a line or a polygon by tapping the map; keyboard users add
// the map centre (under the cross-hair) instead of tapping.

import type { GeometryType } from "../api/concertations";
import { h, uid } from "../dom";
import type { CartoMap, LngLat } from "../map";


export const GEOMETRY_LABELS: Record<GeometryType, string> = {
  Point: "Un point",
  LineString: "Une ligne",
  Polygon: "Une zone",
};

const MIN_POINTS: Record<GeometryType, number> = { Point: 1, LineString: 2, Polygon: 3 };

export class DrawTool {
  private points: LngLat[] = [];
  private type: GeometryType;
  readonly element: HTMLElement;
  private status: HTMLElement;

  constructor(
    private map: CartoMap,
    types: GeometryType[],
  ) {
    this.type = types[0] ?? "Point";
    this.status = h("p", { class: "where", "aria-live": "polite" });
    const name = uid("geom");
    const radios = types.map((t) => {
      const input = h("input", { type: "radio", name, value: t, id: uid("g"), checked: t === this.type });
      input.addEventListener("change", () => this.setType(t));
      return h("label", { for: input.id, class: "radio" }, input, ` ${GEOMETRY_LABELS[t]}`);
    });
    this.element = h(
      "fieldset",
      { class: "draw" },
      h("legend", null, "Où ? Dessinez sur la carte"),
      types.length > 1 ? h("div", { class: "row", role: "group", "aria-label": "Forme" }, radios) : null,
      this.status,
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", class: "btn btn-small", onclick: () => this.add(map.center()) }, "Ajouter le centre de la carte"),
        h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => this.undo() }, "Annuler le dernier point"),
        h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => this.clear() }, "Effacer"),
      ),
    );
    map.addOverlay("draft", { draft: { type: "geojson", data: this.featureCollection() } }, [
      { id: "draft-fill", type: "fill", source: "draft", filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#f59e0b", "fill-opacity": 0.3 } },
      { id: "draft-line", type: "line", source: "draft", filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": "#b45309", "line-width": 3, "line-dasharray": [2, 1] } },
      { id: "draft-points", type: "circle", source: "draft", filter: ["==", ["geometry-type"], "Point"], paint: { "circle-color": "#b45309", "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } },
    ]);
    map.setClickHandler((p) => this.add(p));
    this.update();
  }

  setType(t: GeometryType): void {
    this.type = t;
    if (t === "Point") this.points = this.points.slice(-1);
    this.update();
  }

  add(p: LngLat): void {
    if (this.type === "Point") this.points = [p];
    else this.points.push(p);
    this.update();
  }

  undo(): void {
    this.points.pop();
    this.update();
  }

  clear(): void {
    this.points = [];
    this.update();
  }

  /** The drawn geometry, or null while it has too few points. */
  geometry(): GeoJSON.Geometry | null {
    const c = this.points.map((p) => [p.lng, p.lat]);
    if (c.length < MIN_POINTS[this.type]) return null;
    if (this.type === "Point") return { type: "Point", coordinates: c[0] };
    if (this.type === "LineString") return { type: "LineString", coordinates: c };
    return { type: "Polygon", coordinates: [[...c, c[0]]] };
  }

  destroy(): void {
    this.map.setClickHandler(null);
    this.map.removeOverlay("draft");
  }

  private featureCollection(): GeoJSON.FeatureCollection {
    const features: GeoJSON.Feature[] = this.points.map((p) => ({
      type: "Feature",
      properties: {},
      geometry: { type: "Point", coordinates: [p.lng, p.lat] },
    }));
    const g = this.geometry();
    if (g && g.type !== "Point") features.unshift({ type: "Feature", properties: {}, geometry: g });
    else if (this.type !== "Point" && this.points.length >= 2) {
      features.unshift({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: this.points.map((p) => [p.lng, p.lat]) } });
    }
    return { type: "FeatureCollection", features };
  }

  private update(): void {
    this.map.setGeoJSON("draft", this.featureCollection());
    const n = this.points.length;
    const need = MIN_POINTS[this.type];
    if (this.type === "Point") {
      this.status.textContent = n ? "Point placé (touchez ailleurs pour le déplacer)." : "Touchez la carte pour placer le point.";
    } else {
      const shape = this.type === "LineString" ? "la ligne" : "la zone";
      this.status.textContent =
        n >= need
          ? `${n} points placés : ${shape} est prête (ajoutez des points pour l'affiner).`
          : `${n} point${n > 1 ? "s" : ""} placé${n > 1 ? "s" : ""} sur ${need} au minimum : touchez la carte pour dessiner ${shape}.`;
    }
  }
}

// A concertation's reference and constraint layers on its map, with a legend, and
// the constraints explained before a participant places anything (the server's
// sentences): "at least 5 m from an existing tree" is then something one can see.

import { loadLayerFeatures, type ReferenceLayer } from "../api/concertations";
import { h } from "../dom";
import type { CartoMap } from "../map";

function swatch(color: string, constraint: boolean): HTMLElement {
  const el = h("span", { class: `layer-swatch${constraint ? " layer-swatch-constraint" : ""}`, "aria-hidden": "true" });
  el.style.backgroundColor = color;
  return el;
}

/** Draws every layer (fills, lines, points in the layer's colour) below the contributions. */
export class ReferenceLayers {
  constructor(
    private map: CartoMap,
    readonly layers: ReferenceLayer[],
  ) {}

  /** Fetch and draw the layers' features; a layer that fails to load is left out. */
  async draw(): Promise<void> {
    await Promise.all(
      this.layers.map(async (layer) => {
        const data = await loadLayerFeatures(layer).catch(() => null);
        if (!data) return;
        const id = `ref-${layer.id}`;
        const dashed = layer.role === "constraint" ? { "line-dasharray": [2, 1] } : {};
        this.map.addOverlay(id, { [id]: { type: "geojson", data } }, [
          { id: `${id}-fill`, type: "fill", source: id, filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": layer.color, "fill-opacity": 0.25 } },
          { id: `${id}-line`, type: "line", source: id, filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": layer.color, "line-width": 2, ...dashed } },
          { id: `${id}-points`, type: "circle", source: id, filter: ["==", ["geometry-type"], "Point"], paint: { "circle-color": layer.color, "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 2, 17, 6], "circle-opacity": 0.8 } },
        ]);
      }),
    );
  }

  /** The legend: one line per layer, constraints saying what they check. */
  legend(): HTMLElement | null {
    if (!this.layers.length) return null;
    return h(
      "section",
      { class: "card layer-legend", "aria-labelledby": "layer-legend-title" },
      h("h2", { id: "layer-legend-title", class: "h4" }, "Couches sur la carte"),
      h(
        "ul",
        { class: "plain-list" },
        this.layers.map((l) =>
          h(
            "li",
            { "data-layer": l.slug },
            swatch(l.color, l.role === "constraint"),
            h("strong", null, l.title),
            l.role === "constraint" ? " (contrainte)" : " (référence)",
            l.explanation ? h("span", { class: "muted" }, ` — ${l.explanation}`) : l.description ? h("span", { class: "muted" }, ` — ${l.description}`) : null,
          ),
        ),
      ),
    );
  }

  /** The rules, shown at the top of the contribution form (before placing a point). */
  constraintNotice(): HTMLElement | null {
    const rules = this.layers.filter((l) => l.role === "constraint" && l.explanation);
    if (!rules.length) return null;
    return h(
      "div",
      { class: "alert alert-info constraint-notice", id: "constraint-notice", tabindex: "-1" },
      h("p", null, h("strong", null, "Avant de placer votre contribution :")),
      h("ul", null, rules.map((l) => h("li", null, swatch(l.color, true), l.explanation, l.message ? ` ${l.message}` : ""))),
      h("p", { class: "hint" }, "Ces couches sont dessinées sur la carte (voir la légende)."),
    );
  }

  /** A refusal's reasons pointing at the layers drawn on the map. */
  pointAt(reasons: { layer?: string }[]): string {
    const titles = reasons
      .map((r) => this.layers.find((l) => l.slug === r.layer)?.title)
      .filter((t): t is string => !!t);
    if (!titles.length) return "";
    const names = [...new Set(titles)].map((t) => `« ${t} »`).join(", ");
    return ` Voyez la couche ${names} dessinée sur la carte (légende ci-dessous).`;
  }
}

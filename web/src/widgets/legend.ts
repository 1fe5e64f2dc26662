// The legend of the planner's map: what each colour and each size means, with the
// category names from the server's vocabulary (never a code).

import { terms } from "../api/vocabulary";
import { h } from "../dom";
import { CATEGORY_COLORS, categoryColor } from "../labels";
import { DETAIL_ZOOM } from "./aggregates";

/** The colours of the cluster bubbles and of a contribution without theme colour (layers.ts). */
const CLUSTER_COLOR = "#334e68";
const CONTRIBUTION_COLOR = "#7c3aed";

function swatch(color: string, kind: "dot" | "bubble" = "dot"): HTMLElement {
  const el = h("span", { class: `legend-swatch legend-${kind}`, "aria-hidden": "true" });
  el.style.backgroundColor = color;
  return el;
}

function item(mark: HTMLElement, label: string): HTMLElement {
  return h("li", null, mark, h("span", null, label));
}

/** Which overlays the legend describes (the layer panel's checkboxes). */
export interface LegendState {
  points: boolean;
  heat: boolean;
  contribs: boolean;
  contribHeat: boolean;
}

/** The legend's entries for what is shown; categories without a colour of their own share one line. */
export function legendItems(state: LegendState): HTMLElement[] {
  const items: HTMLElement[] = [];
  if (state.points) {
    const cats = terms("category");
    const own = cats.filter((c) => c.code in CATEGORY_COLORS);
    const others = cats.filter((c) => !(c.code in CATEGORY_COLORS));
    for (const c of own) items.push(item(swatch(categoryColor(c.code)), c.label));
    if (others.length) items.push(item(swatch(categoryColor("")), others.map((c) => c.label).join(", ")));
    items.push(
      item(swatch(CLUSTER_COLOR, "bubble"), `Groupe de signalements (vue éloignée, zoom ≤ ${DETAIL_ZOOM - 1}) : plus la bulle est grande, plus ils sont nombreux`),
    );
  }
  if (state.contribs) items.push(item(swatch(CONTRIBUTION_COLOR), "Contributions : couleur du thème de la concertation"));
  if (state.heat || state.contribHeat) {
    items.push(item(h("span", { class: "legend-swatch legend-heat", "aria-hidden": "true" }), "Carte de chaleur : du bleu (peu) au rouge (beaucoup)"));
  }
  return items;
}

/** The legend section; `update` redraws it when the layers shown change. */
export function legend(state: LegendState): { element: HTMLElement; update: (s: LegendState) => void } {
  const list = h("ul", { class: "legend plain-list", "data-testid": "legend" });
  const empty = h("p", { class: "muted" }, "Aucune couche de points affichée.");
  const update = (s: LegendState): void => {
    const items = legendItems(s);
    list.replaceChildren(...items);
    list.hidden = items.length === 0;
    empty.hidden = items.length > 0;
  };
  update(state);
  const element = h("section", { "aria-labelledby": "legend-title" }, h("h2", { id: "legend-title" }, "Légende"), list, empty);
  return { element, update };
}

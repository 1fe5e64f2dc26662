// The synthesis dashboard of a concertation: key figures, bar charts drawn as
// SVG (with the same figures in a table for screen readers), the HTML report.

import { api } from "../api";
import { h, s } from "../dom";
import { heading, type ViewContext } from "../router";
import { findConcertation } from "./concertations";
import { bboxOf } from "./concertation_map";

interface Bar {
  label: string;
  value: number;
  color?: string;
}

const LABEL_KEYS = ["label", "theme_label", "kind_label", "name", "theme", "kind", "status", "commune"];
const VALUE_KEYS = ["count", "contributions", "total", "value", "n"];

/** Bars from a list of objects (label + count) or a {label: count} mapping. */
export function barsOf(value: unknown): Bar[] | null {
  if (Array.isArray(value) && value.length && value.every((v) => v && typeof v === "object")) {
    const bars = value.map((v: Record<string, unknown>) => {
      const label = LABEL_KEYS.map((k) => v[k]).find((x) => typeof x === "string");
      const count = VALUE_KEYS.map((k) => v[k]).find((x) => typeof x === "number");
      return label !== undefined && count !== undefined ? { label: String(label), value: Number(count), color: typeof v.color === "string" ? v.color : undefined } : null;
    });
    return bars.every(Boolean) ? (bars as Bar[]) : null;
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length && entries.every(([, v]) => typeof v === "number")) return entries.map(([k, v]) => ({ label: k, value: v as number }));
  }
  return null;
}

const TITLES: Record<string, string> = {
  themes: "Par thème",
  by_theme: "Par thème",
  kinds: "Par nature",
  by_kind: "Par nature",
  communes: "Par commune",
  by_commune: "Par commune",
  answers: "Réponses officielles",
  by_answer: "Réponses officielles",
  channels: "Par canal",
  by_channel: "Par canal",
  timeline: "Dans le temps",
};

function chart(title: string, bars: Bar[]): HTMLElement {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rowH = 26;
  const width = 320;
  const svg = s(
    "svg",
    { viewBox: `0 0 ${width} ${bars.length * rowH}`, width: "100%", role: "img", "aria-hidden": "true", class: "chart" },
    bars.map((b, i) => [
      s("rect", { x: 130, y: i * rowH + 4, width: Math.max(2, ((width - 170) * b.value) / max), height: rowH - 8, fill: b.color ?? "#1d4f91", rx: 3 }),
      s("text", { x: 124, y: i * rowH + rowH / 2 + 4, "text-anchor": "end", class: "chart-label" }, b.label.length > 20 ? `${b.label.slice(0, 19)}…` : b.label),
      s("text", { x: 134 + ((width - 170) * b.value) / max, y: i * rowH + rowH / 2 + 4, class: "chart-value" }, String(b.value)),
    ]),
  );
  return h(
    "figure",
    { class: "card" },
    h("figcaption", { class: "h4" }, title),
    svg,
    h("table", { class: "sr-only" }, h("caption", null, title),
      h("tbody", null, bars.map((b) => h("tr", null, h("th", { scope: "row" }, b.label), h("td", null, String(b.value)))))),
  );
}

export async function synthesisView({ panel, map, params }: ViewContext): Promise<void> {
  const c = await findConcertation(params.slug);
  map.addOverlay("perimeter", { perimeter: { type: "geojson", data: { type: "Feature", properties: {}, geometry: c.perimeter } } }, [
    { id: "perimeter-line", type: "line", source: "perimeter", paint: { "line-color": "#7c2d12", "line-width": 2.5, "line-dasharray": [3, 2] } },
  ]);
  map.fit(bboxOf(c.perimeter), 14);
  const data = await api<Record<string, unknown>>(`/api/v1/concertations/${c.id}/synthesis`);
  const figures = Object.entries(data).filter(([, v]) => typeof v === "number") as [string, number][];
  const charts = Object.entries(data)
    .map(([k, v]) => [k, barsOf(v)] as const)
    .filter((x): x is readonly [string, Bar[]] => x[1] !== null && x[1].length > 0)
    .map(([k, bars]) => chart(TITLES[k] ?? k, bars));
  panel.replaceChildren(
    h("p", { class: "crumb" }, h("a", { href: `/concertations/${encodeURIComponent(c.slug)}` }, c.title)),
    heading(`Synthèse : ${c.title}`),
    h("p", null, h("a", { href: `/api/v1/concertations/${c.id}/synthesis.html`, class: "btn", target: "_blank", rel: "noopener" }, "Rapport de synthèse (HTML, imprimable)")),
    figures.length ? h("dl", { class: "figures" }, figures.map(([k, v]) => h("div", null, h("dt", null, k.replace(/_/g, " ")), h("dd", null, String(v))))) : "",
    charts.length ? h("div", { class: "charts" }, charts) : h("p", null, "Pas encore de données à synthétiser."),
  );
}

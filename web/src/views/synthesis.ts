// The synthesis dashboard of a concertation: key figures, bar charts drawn as
// SVG (the same figures in a table for screen readers), rankings, the HTML report.

import { h, mount, s } from "../dom";
import { heading, type ViewContext } from "../router";
import { findConcertation, loadSynthesis, synthesisReportUrl } from "../api/concertations";
import { bboxOf } from "../widgets/concertation_map";
import type { Facet, Ranked } from "../api/concertations";

interface Bar {
  label: string;
  value: number;
  color?: string;
}

const TOTAL_LABELS: [string, string][] = [
  ["contributions", "Contributions"],
  ["participants", "Participants"],
  ["votes_for", "Votes pour"],
  ["votes_against", "Votes contre"],
  ["supports", "Soutiens"],
  ["comments", "Commentaires"],
  ["offline_contributions", "Hors ligne (ateliers, papier)"],
];

/** A horizontal bar chart, with its figures repeated in a visually hidden table. */
export function chart(title: string, bars: Bar[]): HTMLElement {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rowH = 26;
  const width = 340;
  const scale = (v: number): number => ((width - 180) * v) / max;
  const svg = s(
    "svg",
    { viewBox: `0 0 ${width} ${Math.max(1, bars.length) * rowH}`, width: "100%", "aria-hidden": "true", class: "chart" },
    bars.map((b, i) => [
      s("rect", { x: 140, y: i * rowH + 4, width: Math.max(2, scale(b.value)), height: rowH - 8, fill: b.color ?? "#1d4f91", rx: 3 }),
      s("text", { x: 134, y: i * rowH + rowH / 2 + 4, "text-anchor": "end", class: "chart-label" }, b.label.length > 18 ? `${b.label.slice(0, 17)}…` : b.label),
      s("text", { x: 146 + scale(b.value), y: i * rowH + rowH / 2 + 4, class: "chart-value" }, String(b.value)),
    ]),
  );
  return h(
    "figure",
    { class: "card chart-card" },
    h("figcaption", { class: "h4" }, title),
    svg,
    h("table", { class: "sr-only" }, h("caption", null, title),
      h("tbody", null, bars.map((b) => h("tr", null, h("th", { scope: "row" }, b.label), h("td", null, String(b.value)))))),
  );
}

const facetBars = (facets: Facet[] | undefined): Bar[] =>
  (facets ?? []).map((f) => ({ label: f.label, value: f.count, color: f.color }));

function ranking(title: string, items: Ranked[], slug: string): HTMLElement | null {
  if (!items?.length) return null;
  return h(
    "section",
    { class: "card" },
    h("h2", { class: "h4" }, title),
    h("ol", null, items.slice(0, 5).map((r) =>
      h("li", null, h("a", { href: `/concertations/${encodeURIComponent(slug)}/contributions/${r.id}` }, r.title ?? `n° ${r.id}`),
        ` — ${r.theme_label} · pour ${r.votes_for}, contre ${r.votes_against}, soutiens ${r.supports}`))),
  );
}

export async function synthesisView({ panel, map, params }: ViewContext): Promise<void> {
  const c = await findConcertation(params.slug);
  map.addOverlay("perimeter", { perimeter: { type: "geojson", data: { type: "Feature", properties: {}, geometry: c.perimeter } } }, [
    { id: "perimeter-line", type: "line", source: "perimeter", paint: { "line-color": "#7c2d12", "line-width": 2.5, "line-dasharray": [3, 2] } },
  ]);
  map.fit(bboxOf(c.perimeter), 14);
  const data = await loadSynthesis(c);
  const communes = [...(data.by_commune ?? [])].sort((a, b) => b.contributions - a.contributions).slice(0, 10);
  const charts = [
    chart("Contributions par thème", facetBars(data.by_theme)),
    chart("Par nature", facetBars(data.by_kind)),
    chart("Réponses officielles", facetBars(data.by_answer)),
    chart("Par canal", facetBars(data.by_channel)),
    communes.length ? chart("Communes les plus actives", communes.map((x) => ({ label: x.nom, value: x.contributions }))) : null,
  ];
  mount(panel, 
    h("p", { class: "crumb" }, h("a", { href: `/concertations/${encodeURIComponent(c.slug)}` }, c.title)),
    heading(`Synthèse : ${c.title}`),
    h("p", null, h("a", { href: synthesisReportUrl(c), class: "btn", target: "_blank", rel: "noopener" }, "Rapport de synthèse (HTML, imprimable)")),
    h("dl", { class: "figures", "data-testid": "totals" },
      TOTAL_LABELS.filter(([k]) => k in (data.totals ?? {})).map(([k, label]) => h("div", null, h("dt", null, label), h("dd", null, String(data.totals[k]))))),
    h("div", { class: "charts" }, charts.filter(Boolean)),
    ranking("Les plus soutenues", data.most_supported, c.slug),
    ranking("Les plus débattues", data.most_disputed, c.slug),
    data.text_themes?.length
      ? h("section", { class: "card" }, h("h2", { class: "h4" }, "Sujets qui reviennent dans les textes"),
          h("ul", null, data.text_themes.map((t) => h("li", null, `${t.label} (${t.size}) : ${t.top_terms.slice(0, 6).join(", ")}`))))
      : null,
  );
}

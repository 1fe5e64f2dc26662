// One contribution's own page, to share: its place on the map (with the concertation's
// layers), its text, votes, comments, official answer and moderation state.

import { findConcertation, isOpen, type ConcertationDetail } from "../api/concertations";
import { loadContribution, loadMine } from "../api/contributions";
import { formatDay, h, mount } from "../dom";
import { heading, navigate, type ViewContext } from "../router";
import { me } from "../session";
import { ConcertationLayers, anchorOf, bboxOf } from "../widgets/concertation_map";
import { PAGE_TITLE, contributionCard, contributionHref } from "../widgets/contribution";
import { ReferenceLayers } from "../widgets/reference_layers";
import "../widgets/contribution_page.css";

export async function contributionPageView({ panel, map, params }: ViewContext): Promise<void> {
  const id = Number.parseInt(params.id, 10);
  if (!Number.isSafeInteger(id) || id <= 0 || String(id) !== params.id) throw new Error("Contribution introuvable.");
  const item = await loadContribution(id);
  if (item.properties.concertation !== params.slug) return navigate(contributionHref(item), true);
  const c = (await findConcertation(item.properties.concertation)) as ConcertationDetail;
  const mine = await loadMine(c, !!me());
  const refs = new ReferenceLayers(map, c.reference_layers ?? []);
  await refs.draw();
  const layers = new ConcertationLayers(map, c.perimeter, c.themes);
  map.addCleanup(() => layers.destroy());
  layers.setData([item], new Set([item.properties.theme]));
  const at = anchorOf(item.geometry);
  if (item.geometry && item.geometry.type !== "Point") map.fit(bboxOf(item.geometry), 17);
  else if (at) map.flyTo(at, 17);
  else map.fit(bboxOf(c.perimeter), 14);

  const back = `/concertations/${encodeURIComponent(c.slug)}`;
  const title = heading(item.properties.title ?? "Contribution masquée");
  title.id = PAGE_TITLE;
  const p = item.properties;
  mount(
    panel,
    h("p", { class: "crumb" }, h("a", { href: back }, `← ${c.title}`)),
    title,
    h("p", { class: "meta" }, `Contribution n° ${item.id}`, p.created_at ? ` · publiée le ${formatDay(p.created_at)}` : "",
      p.supports ? ` · ${p.supports} soutien${p.supports > 1 ? "s" : ""}` : ""),
    contributionCard(item, isOpen(c), mine, true),
    refs.legend(),
    h("p", null, h("a", { href: back }, "Toutes les contributions de la concertation")),
  );
}

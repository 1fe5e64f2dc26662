// A concertation's contributions as a list the server searches, filters, sorts and pages:
// the state lives in the URL (?q=&theme=&nature=&tri=&page=), so a page of results can
// be shared, reloaded and reached with the back button; each card links to its own page.

import type { Concertation } from "../api/concertations";
import { searchContributions, type Contribution, type ContributionQuery, type Mine } from "../api/contributions";
import { terms } from "../api/vocabulary";
import { errorBox, field, h, mount } from "../dom";
import { kindLabel } from "../labels";
import { contributionCard } from "./contribution";

export const PAGE = 20;

const SORTS: [string, NonNullable<ContributionQuery["sort"]>, string][] = [
  ["recentes", "newest", "Les plus récentes"],
  ["soutenues", "supported", "Les plus soutenues"],
  ["repondues", "answered", "Avec une réponse officielle d'abord"],
  ["anciennes", "oldest", "Les plus anciennes"],
];

export interface ListState {
  q: string;
  theme: string;
  kind: string;
  sort: string;
  page: number;
}

export function readListState(query: URLSearchParams): ListState {
  const sort = query.get("tri") ?? "";
  const page = Number.parseInt(query.get("page") ?? "1", 10);
  return {
    q: (query.get("q") ?? "").slice(0, 200),
    theme: query.get("theme") ?? "",
    kind: query.get("nature") ?? "",
    sort: SORTS.some(([code]) => code === sort) ? sort : "recentes",
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

function searchOf(state: ListState, page = state.page): string {
  const q = new URLSearchParams();
  if (state.q) q.set("q", state.q);
  if (state.theme) q.set("theme", state.theme);
  if (state.kind) q.set("nature", state.kind);
  if (state.sort !== "recentes") q.set("tri", state.sort);
  if (page > 1) q.set("page", String(page));
  const text = q.toString();
  return text ? `?${text}` : "";
}

export class ContributionList {
  readonly element: HTMLElement;
  private results = h("div", { class: "contributions", "aria-live": "polite" });
  private title = h("h2", { id: "contrib-list-title", tabindex: "-1" }, "Contributions");

  constructor(
    private c: Concertation,
    private open: boolean,
    private mine: Mine,
    private state: ListState,
    private onFilter: (state: ListState) => void,
  ) {
    this.element = h("section", { class: "contribution-list", "aria-labelledby": this.title.id }, this.title, this.controls(), this.results);
  }

  /** The contributions the map shows for the current theme and kind filters. */
  shownOnMap(items: Contribution[]): Contribution[] {
    return items.filter((i) => (!this.state.theme || i.properties.theme === this.state.theme) && (!this.state.kind || i.properties.kind === this.state.kind));
  }

  private controls(): HTMLElement {
    const s = this.state;
    const q = h("input", { type: "search", name: "q", maxlength: 200, value: s.q });
    const theme = h("select", { name: "theme" }, h("option", { value: "" }, "Tous les thèmes"),
      this.c.themes.map((t) => h("option", { value: t.slug, selected: t.slug === s.theme }, t.label)));
    const kinds = this.c.allowed_kinds?.length ? this.c.allowed_kinds : terms("contribution_kind").map((t) => t.code);
    const kind = h("select", { name: "nature" }, h("option", { value: "" }, "Toutes les natures"),
      kinds.map((k) => h("option", { value: k, selected: k === s.kind }, kindLabel(k))));
    const sort = h("select", { name: "tri" }, SORTS.map(([code, , label]) => h("option", { value: code, selected: code === s.sort }, label)));
    const form = h(
      "form",
      { class: "list-filters", role: "search", "aria-label": "Rechercher dans les contributions" },
      field("Rechercher", q),
      field("Thème", theme),
      field("Nature", kind),
      field("Trier par", sort),
      h("button", { type: "submit", class: "btn btn-small" }, "Rechercher"),
    );
    const apply = (): void => {
      this.state = { q: q.value.trim(), theme: theme.value, kind: kind.value, sort: sort.value, page: 1 };
      void this.go();
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      apply();
    });
    for (const select of [theme, kind, sort]) select.addEventListener("change", apply);
    return form;
  }

  /** Put the state in the URL (a new history entry) and show its page. */
  private async go(): Promise<void> {
    window.history.pushState(null, "", window.location.pathname + searchOf(this.state));
    await this.render();
  }

  async render(): Promise<void> {
    const s = this.state;
    this.onFilter(s);
    let found;
    try {
      const sort = SORTS.find(([code]) => code === s.sort)?.[1] ?? "newest";
      found = await searchContributions(this.c, { q: s.q, theme: s.theme, kind: s.kind, sort, limit: PAGE, offset: (s.page - 1) * PAGE });
    } catch (err) {
      mount(this.results, errorBox(err instanceof Error ? err.message : "Contributions indisponibles."));
      return;
    }
    const total = found.number_matched;
    const pages = Math.max(1, Math.ceil(total / PAGE));
    this.title.textContent = `Contributions (${total})`;
    mount(
      this.results,
      found.features.length
        ? found.features.map((i) => contributionCard(i, this.open, this.mine))
        : h("p", null, s.q || s.theme || s.kind ? "Aucune contribution ne correspond à ces critères." : "Aucune contribution pour le moment."),
      pages > 1 ? this.pager(s.page, pages) : null,
    );
  }

  private pager(page: number, pages: number): HTMLElement {
    const link = (n: number, label: string, rel?: string): HTMLElement => {
      const a = h("a", { href: window.location.pathname + searchOf(this.state, n), rel: rel ?? null, class: "btn btn-small btn-ghost" }, label);
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        this.state = { ...this.state, page: n };
        void this.go().then(() => this.title.focus());
      });
      return a;
    };
    return h(
      "nav",
      { class: "row pager", "aria-label": "Pages de contributions" },
      page > 1 ? link(page - 1, "Page précédente", "prev") : null,
      h("span", { "aria-current": "page" }, `Page ${page} sur ${pages}`),
      page < pages ? link(page + 1, "Page suivante", "next") : null,
    );
  }
}

// One contribution in the list or on its own page: theme, text, official answer, and
// (while the concertation is open) votes pour/contre, comments and "signaler un abus".
// The caller's own vote shows as pressed; no vote is offered on one's own contribution.

import { ApiError } from "../api/client";
import { errorBox, field, formatDay, h, mount, uid } from "../dom";
import { icon } from "../icons";
import { NOBODY, answerContribution, reportContribution, castVote, type Answer, type Contribution, type Mine } from "../api/contributions";
import { answerOptions, kindLabel } from "../labels";
import { isAdmin, me } from "../session";
import { commentsBox, reasonForm } from "./comments";

/** The id of the contribution page's heading (its card is labelled by it). */
export const PAGE_TITLE = "contribution-title";

/** The address of a contribution's own page. */
export const contributionHref = (c: Contribution): string =>
  `/concertations/${encodeURIComponent(c.properties.concertation)}/contributions/${c.id}`;

function loginLink(): HTMLElement {
  const next = encodeURIComponent(window.location.pathname);
  return h("p", { class: "muted" }, h("a", { href: `/connexion?next=${next}` }, "Connectez-vous"), " pour voter, commenter ou signaler un abus.");
}

function voteButtons(c: Contribution, mine: Mine): HTMLElement {
  if (mine.contributions.includes(c.id)) {
    return h("p", { class: "meta votes" }, `Pour : ${c.properties.votes_for} · Contre : ${c.properties.votes_against} · c'est votre contribution : vous ne pouvez pas voter pour elle.`);
  }
  const out = h("span", { class: "vote-msg", "aria-live": "polite" });
  const pour = h("button", { type: "button", class: "btn btn-small vote", "data-vote": "1" });
  const contre = h("button", { type: "button", class: "btn btn-small vote", "data-vote": "-1" });
  const render = (forN: number, againstN: number): void => {
    mount(pour, icon("thumbUp", 16), ` Pour (${forN})`);
    mount(contre, icon("thumbDown", 16), ` Contre (${againstN})`);
    pour.setAttribute("aria-label", `Voter pour : ${forN} vote${forN > 1 ? "s" : ""} pour`);
    contre.setAttribute("aria-label", `Voter contre : ${againstN} vote${againstN > 1 ? "s" : ""} contre`);
  };
  render(c.properties.votes_for, c.properties.votes_against);
  const current = mine.votes[String(c.id)];
  if (current) {
    pour.setAttribute("aria-pressed", String(current === 1));
    contre.setAttribute("aria-pressed", String(current === -1));
  }
  const vote = async (value: 1 | -1, btn: HTMLButtonElement): Promise<void> => {
    try {
      const r = await castVote(c.id, value);
      c.properties.votes_for = r.votes_for;
      c.properties.votes_against = r.votes_against;
      render(r.votes_for, r.votes_against);
      pour.setAttribute("aria-pressed", String(value === 1));
      contre.setAttribute("aria-pressed", String(value === -1));
      mine.votes[String(c.id)] = value;
      out.textContent = "Vote enregistré.";
      btn.focus();
    } catch (err) {
      out.textContent = err instanceof ApiError ? err.message : "Vote impossible.";
    }
  };
  pour.addEventListener("click", () => vote(1, pour));
  contre.addEventListener("click", () => vote(-1, contre));
  if (!me()) {
    pour.disabled = true;
    contre.disabled = true;
  }
  return h("div", { class: "row votes", role: "group", "aria-label": "Votes" }, pour, contre, out);
}

function abuse(c: Contribution): HTMLElement {
  return reasonForm([icon("flag", 14), " Signaler un abus"], "Pourquoi cette contribution pose-t-elle problème ?", "Envoyer le signalement d'abus",
    (reason) => reportContribution(c.id, reason), (out) => mount(out, h("p", { class: "alert alert-ok" }, "Merci : la modération va l'examiner.")));
}

function answerBlock(a: Answer): HTMLElement {
  return h(
    "div",
    { class: `answer answer-${a.status}`, "data-testid": "answer" },
    h("p", { class: "answer-title" }, h("strong", null, "Réponse officielle : "), a.label, a.authority ? ` (${a.authority})` : ""),
    h("p", null, a.text),
  );
}

/** The organisers' official answer form (the server checks the caller runs the concertation). */
function answerForm(c: Contribution, card: () => HTMLElement): HTMLElement {
  const current = c.properties.answer;
  const status = h("select", { name: "status", required: true }, answerOptions().map(([v, l]) => h("option", { value: v, selected: current?.status === v }, l)));
  const text = h("textarea", { name: "text", rows: 3, required: true, minlength: 10, maxlength: 5000 }, current?.text ?? "");
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "stack" }, field("Décision", status), field("Justification publique", text, "Au moins 10 caractères ; elle sera publiée avec la contribution."), out,
    h("button", { type: "submit", class: "btn btn-small" }, current ? "Modifier la réponse" : "Publier la réponse"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      c.properties.answer = await answerContribution(c.id, { status: status.value, text: text.value.trim() });
      const fresh = card();
      form.closest("article")?.replaceWith(fresh);
      fresh.focus();
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Réponse refusée."));
    }
  });
  return h("details", { class: "answer-box" }, h("summary", null, "Répondre officiellement"), form);
}

/** The card of a contribution; `open` is false for a closed concertation (read-only archive).
 * In a list (`page` false) its title links to its own page and its comments are folded. */
export function contributionCard(c: Contribution, open: boolean, mine: Mine = NOBODY, page = false): HTMLElement {
  const p = c.properties;
  const titleId = uid("contrib");
  const title = p.title ?? "(contribution masquée)";
  return h(
    "article",
    { class: "card contribution", id: `contribution-${c.id}`, tabindex: "-1", "aria-labelledby": page ? PAGE_TITLE : titleId, "data-id": String(c.id) },
    page ? null : h("h3", { id: titleId, class: "h4" }, h("a", { href: contributionHref(c) }, title)),
    h(
      "p",
      { class: "meta" },
      h("span", { class: "theme-dot", style: `background:${p.theme_color ?? "#1d4f91"}` }),
      ` ${p.theme_label ?? p.theme} · ${p.kind_label ?? kindLabel(p.kind)}`,
      p.author ? ` · ${p.author}` : "",
      p.created_at ? ` · ${formatDay(p.created_at)}` : "",
    ),
    p.visibility === "hidden" ? h("p", { class: "moderated" }, "Contribution masquée par la modération", p.moderation_reason ? ` : ${p.moderation_reason}` : ".") : null,
    p.visibility === "held" ? h("p", { class: "alert alert-info" }, "En attente de modération : seuls vous et les modérateurs la voyez.") : null,
    p.body ? h("p", null, p.body) : null,
    page && p.photo_url ? h("img", { src: p.photo_url, alt: `Photo jointe à « ${title} »`, class: "contribution-photo" }) : null,
    p.answer ? answerBlock(p.answer) : null,
    open && p.visibility === "published" ? voteButtons(c, mine) : h("p", { class: "meta" }, `Pour : ${p.votes_for} · Contre : ${p.votes_against}`),
    p.visibility === "published" ? commentsBox(c, open, !page) : null,
    open && me() && p.visibility === "published" ? abuse(c) : null,
    open && !me() ? loginLink() : null,
    isAdmin() ? answerForm(c, () => contributionCard(c, open, mine, page)) : null,
  );
}

// One contribution in the list: theme, text, official answer, and (while the
// concertation is open) votes pour/contre, comments and "signaler un abus".

import { api, ApiError, itemsOf } from "../api/client";
import { errorBox, field, formatDay, h, mount, uid } from "../dom";
import { icon } from "../icons";
import type { Answer, Contribution } from "../api/contributions";
import { answerOptions, kindLabel } from "../labels";
import { isAdmin, me } from "../session";
import type { CommentItem, VoteResult } from "../api/contributions";

function loginLink(): HTMLElement {
  const next = encodeURIComponent(window.location.pathname);
  return h("p", { class: "muted" }, h("a", { href: `/connexion?next=${next}` }, "Connectez-vous"), " pour voter, commenter ou signaler un abus.");
}

function voteButtons(c: Contribution): HTMLElement {
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
  const vote = async (value: 1 | -1, btn: HTMLButtonElement): Promise<void> => {
    try {
      const r = await api<VoteResult>(`/api/v1/contributions/${c.id}/votes`, { method: "POST", json: { value } });
      c.properties.votes_for = r.votes_for;
      c.properties.votes_against = r.votes_against;
      render(r.votes_for, r.votes_against);
      pour.setAttribute("aria-pressed", String(value === 1));
      contre.setAttribute("aria-pressed", String(value === -1));
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

function commentList(items: CommentItem[]): HTMLElement {
  if (!items.length) return h("p", { class: "muted" }, "Aucun commentaire.");
  return h(
    "ul",
    { class: "comments" },
    items.map((c) =>
      h("li", null, h("p", { class: "meta" }, `${c.author}, le ${formatDay(c.created_at)}`), h("p", null, c.body ?? "(masqué par la modération)"),
        c.replies?.length ? commentList(c.replies) : null),
    ),
  );
}

function comments(c: Contribution, open: boolean): HTMLElement {
  const list = h("div", { "aria-live": "polite" });
  const load = async (): Promise<void> => {
    try {
      mount(list, commentList(itemsOf<CommentItem>(await api(`/api/v1/contributions/${c.id}/comments`))));
    } catch (err) {
      mount(list, errorBox(err instanceof Error ? err.message : "Commentaires indisponibles."));
    }
  };
  const body = h("textarea", { rows: 2, required: true, maxlength: 3000, name: "comment" });
  const out = h("div");
  const form = h("form", { class: "stack" }, field("Votre commentaire", body), out, h("button", { type: "submit", class: "btn btn-small" }, "Publier le commentaire"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/v1/contributions/${c.id}/comments`, { method: "POST", json: { body: body.value.trim() } });
      body.value = "";
      mount(out);
      await load();
    } catch (err) {
      mount(out, errorBox(err instanceof Error ? err.message : "Commentaire refusé."));
    }
  });
  const details = h("details", { class: "comments-box" }, h("summary", null, `Commentaires (${c.properties.comments ?? 0})`), list, open && me() ? form : null);
  details.addEventListener("toggle", () => {
    if (details.open) void load();
  });
  return details;
}

function abuse(c: Contribution): HTMLElement {
  const reason = h("textarea", { rows: 2, required: true, minlength: 3, maxlength: 1000, name: "reason" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "stack" }, field("Pourquoi cette contribution pose-t-elle problème ?", reason), out, h("button", { type: "submit", class: "btn btn-small" }, "Envoyer le signalement d'abus"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/v1/contributions/${c.id}/reports`, { method: "POST", json: { reason: reason.value.trim() } });
      mount(out, h("p", { class: "alert alert-ok" }, "Merci : la modération va l'examiner."));
      reason.value = "";
    } catch (err) {
      mount(out, errorBox(err instanceof Error ? err.message : "Envoi impossible."));
    }
  });
  return h("details", { class: "abuse" }, h("summary", null, icon("flag", 14), " Signaler un abus"), form);
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
      c.properties.answer = await api<Answer>(`/api/v1/contributions/${c.id}/answer`, { method: "PUT", json: { status: status.value, text: text.value.trim() } });
      const fresh = card();
      form.closest("article")?.replaceWith(fresh);
      fresh.focus();
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Réponse refusée."));
    }
  });
  return h("details", { class: "answer-box" }, h("summary", null, "Répondre officiellement"), form);
}

/** The card of a contribution; `open` is false for a closed concertation (read-only archive). */
export function contributionCard(c: Contribution, open: boolean): HTMLElement {
  const p = c.properties;
  const titleId = uid("contrib");
  return h(
    "article",
    { class: "card contribution", id: `contribution-${c.id}`, tabindex: "-1", "aria-labelledby": titleId, "data-id": String(c.id) },
    h("h3", { id: titleId, class: "h4" }, p.title ?? "(contribution masquée)"),
    h(
      "p",
      { class: "meta" },
      h("span", { class: "theme-dot", style: `background:${p.theme_color ?? "#1d4f91"}` }),
      ` ${p.theme_label ?? p.theme} · ${p.kind_label ?? kindLabel(p.kind)}`,
      p.author ? ` · ${p.author}` : "",
      p.created_at ? ` · ${formatDay(p.created_at)}` : "",
    ),
    p.body ? h("p", null, p.body) : null,
    p.answer ? answerBlock(p.answer) : null,
    open ? voteButtons(c) : h("p", { class: "meta" }, `Pour : ${p.votes_for} · Contre : ${p.votes_against}`),
    comments(c, open),
    open && me() ? abuse(c) : null,
    open && !me() ? loginLink() : null,
    isAdmin() ? answerForm(c, () => contributionCard(c, open)) : null,
  );
}

// A contribution's discussion: threads, a hidden comment's public reason, « Signaler un
// abus » on each comment, the moderators' hide control, and a counter kept up to date.

import { ApiError } from "../api/client";
import { loadComments, postComment, reportComment, type CommentItem, type Contribution } from "../api/contributions";
import { moderate } from "../api/moderation";
import { errorBox, field, formatDay, h, mount, type Child } from "../dom";
import { icon } from "../icons";
import { hasRole, isAdmin, me } from "../session";

/** Moderators and organisers' administrators see the hide control (the server decides). */
export const mayModerate = (): boolean => hasRole("moderator") || isAdmin();

/** A small form behind a <details>: a reason, given to `send` (a report, a moderation action). */
export function reasonForm(summary: Child[], label: string, submitText: string, send: (reason: string) => Promise<void>, done: (out: HTMLElement) => void | Promise<void>): HTMLElement {
  const reason = h("textarea", { rows: 2, required: true, minlength: 3, maxlength: 1000, name: "reason" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "stack" }, field(label, reason), out, h("button", { type: "submit", class: "btn btn-small" }, submitText));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await send(reason.value.trim());
      reason.value = "";
      await done(out);
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Envoi impossible."));
    }
  });
  return h("details", { class: "abuse" }, h("summary", null, ...summary), form);
}

function count(items: CommentItem[]): number {
  return items.reduce((n, c) => n + (c.visibility === "hidden" || c.visibility === "held" ? 0 : 1) + count(c.replies ?? []), 0);
}

function commentItem(c: CommentItem, open: boolean, reload: () => Promise<void>): HTMLElement {
  const hidden = c.visibility === "hidden";
  const signedIn = !!me();
  return h(
    "li",
    { id: `comment-${c.id}`, "data-comment": String(c.id) },
    h("p", { class: "meta" }, `${c.author}, le ${formatDay(c.created_at)}`, c.visibility === "held" ? " · en attente de modération" : ""),
    hidden
      ? h("p", { class: "moderated" }, "Commentaire masqué par la modération", c.moderation_reason ? ` : ${c.moderation_reason}` : ".")
      : h("p", null, c.body ?? ""),
    !hidden && open && signedIn
      ? reasonForm([icon("flag", 14), " Signaler un abus"], "Pourquoi ce commentaire pose-t-il problème ?", "Envoyer le signalement d'abus",
          (reason) => reportComment(c.id, reason), (out) => mount(out, h("p", { class: "alert alert-ok" }, "Merci : la modération va l'examiner.")))
      : null,
    !hidden && mayModerate()
      ? reasonForm(["Masquer ce commentaire"], "Motif public du masquage", "Masquer le commentaire",
          (reason) => moderate("comment", c.id, "hide", reason), reload)
      : null,
    c.replies?.length ? commentList(c.replies, open, reload) : null,
  );
}

function commentList(items: CommentItem[], open: boolean, reload: () => Promise<void>): HTMLElement {
  if (!items.length) return h("p", { class: "muted" }, "Aucun commentaire.");
  return h("ul", { class: "comments" }, items.map((c) => commentItem(c, open, reload)));
}

/** The comments of `c`: folded in a list (`folded`), unfolded on its own page. */
export function commentsBox(c: Contribution, open: boolean, folded = true): HTMLElement {
  const list = h("div");
  const summaryText = (n: number): string => `Commentaires (${n})`;
  const summary = h(folded ? "summary" : "h2", folded ? null : { class: "h3" }, summaryText(c.properties.comments ?? 0));
  const load = async (): Promise<void> => {
    try {
      const items = await loadComments(c.id);
      c.properties.comments = count(items);
      summary.textContent = summaryText(c.properties.comments);
      mount(list, commentList(items, open, load));
    } catch (err) {
      mount(list, errorBox(err instanceof Error ? err.message : "Commentaires indisponibles."));
    }
  };
  const body = h("textarea", { rows: 2, required: true, maxlength: 3000, name: "comment" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "stack" }, field("Votre commentaire", body), out, h("button", { type: "submit", class: "btn btn-small" }, "Publier le commentaire"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const posted = await postComment(c.id, body.value.trim());
      body.value = "";
      await load();
      mount(out, h("p", { class: "alert alert-ok", role: "status" }, posted.visibility === "held" ? "Commentaire reçu : il sera publié après relecture." : "Commentaire publié."));
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Commentaire refusé."));
    }
  });
  const parts = [list, open && me() ? form : null];
  if (!folded) {
    void load();
    return h("section", { class: "comments-box" }, summary, ...parts);
  }
  const details = h("details", { class: "comments-box" }, summary, ...parts);
  details.addEventListener("toggle", () => {
    if (details.open) void load();
  });
  return details;
}

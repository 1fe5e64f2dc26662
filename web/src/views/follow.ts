// Following a report: its public page (state, timeline, who handles it and
// why), and "mes signalements" for a signed-in citizen.

import { ApiError } from "../api/client";
import { categoryLabel } from "../api/categories";
import { errorBox, field, formatAge, formatDay, h, mount, uid } from "../dom";
import { stateLabel } from "../labels";
import { setFlash, takeFlash } from "../forms";
import { heading, navigate, type ViewContext } from "../router";
import { me } from "../session";
import { locate, signalementSummary, timeline } from "../widgets/signalement";
import { loadMySignalements, loadSignalement, transition } from "../api/signalements";

/** States a reporter may reopen from (within the delay the server enforces). */
const REOPENABLE = new Set(["resolved", "rejected"]);

/** "Rouvrir": the citizen who filed a resolved or rejected report says the problem is back. */
function reopenForm(id: number | string, after: string): HTMLElement {
  const note = h("textarea", { name: "note", rows: 2, maxlength: 2000, id: uid("reopen") });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "stack" }, field("Ce qui ne va toujours pas", note, "Facultatif ; ce texte sera public sur la page de suivi."), out,
    h("button", { type: "submit", class: "btn btn-small" }, `Rouvrir le signalement n° ${id}`));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await transition(id, "reopened", note.value.trim() || null);
      setFlash(`Le signalement n° ${id} est rouvert : le service en est informé.`);
      navigate(after, true);
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Réouverture impossible."));
    }
  });
  return h("details", { class: "reopen" }, h("summary", null, "Le problème persiste ? Rouvrir"), form);
}

/** The signed-in citizen's own report, if this is one (they may reopen it). */
async function isMine(id: string): Promise<boolean> {
  if (!me()) return false;
  try {
    return (await loadMySignalements()).some((s) => String(s.id) === id);
  } catch {
    return false;
  }
}

export async function followView({ panel, map, params }: ViewContext): Promise<void> {
  const id = params.id;
  const s = await loadSignalement(id);
  locate(map, s);
  const mine = REOPENABLE.has(s.state) && (await isMine(String(s.id)));
  mount(
    panel,
    heading(`Signalement n° ${s.reference ?? s.id}`),
    takeFlash(),
    ...(await signalementSummary(s)),
    mine ? reopenForm(s.id, `/suivi/${encodeURIComponent(String(s.id))}`) : null,
    h("h2", null, "Historique"),
    timeline(s.history),
    h("p", { class: "muted" }, "Cette page est publique : elle ne montre aucune donnée personnelle."),
  );
}

export async function myReportsView({ panel }: ViewContext): Promise<void> {
  if (!me()) {
    navigate(`/connexion?next=${encodeURIComponent("/mes-signalements")}`, true);
    return;
  }
  const items = await loadMySignalements();
  const rows = await Promise.all(
    items.map(async (s) =>
      h(
        "li",
        { class: "card" },
        h("a", { href: `/suivi/${encodeURIComponent(String(s.id))}` }, `n° ${s.id} — ${await categoryLabel(s.service_code)}`),
        h("p", null, h("span", { class: `badge state-${s.state}` }, stateLabel(s.state)),
          s.created_at ? ` signalé le ${formatDay(s.created_at)} (${formatAge(s.created_at)})` : ""),
        REOPENABLE.has(s.state) ? reopenForm(s.id, "/mes-signalements") : null,
      ),
    ),
  );
  mount(
    panel,
    heading("Mes signalements"),
    takeFlash(),
    rows.length ? h("ul", { class: "plain-list" }, rows) : h("p", null, "Vous n'avez encore rien signalé. ", h("a", { href: "/signaler" }, "Signaler un problème")),
  );
}

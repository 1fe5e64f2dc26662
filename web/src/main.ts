// Boot: read the config, draw the map, restore the session, route.

import "./style.css";
import { closeAllSessions } from "./api/accounts";
import { loadConfig } from "./api/config";
import { loadVocabulary } from "./api/vocabulary";
import { h, mount } from "./dom";
import { CartoMap } from "./map";
import { setupMenu } from "./menu";
import { heading, navigate, onNavigate, route, setNotFound, startRouter } from "./router";
import { hasRole, isAdmin, isAgent, loadSession, me, onSessionChange, signOut } from "./session";
import { adminConcertationView, adminConcertationsView, adminHomeView } from "./views/admin";
import { adminCompetencesView, adminServicesView } from "./views/admin_routing";
import { agentQueueView, ticketView } from "./views/agent";
import { concertationListView, concertationView } from "./views/concertations";
import { contributionPageView } from "./views/contribution_page";
import { dataView } from "./views/data";
import { followView, myReportsView } from "./views/follow";
import { loginView } from "./views/login";
import { moderationView } from "./views/moderation";
import { reportView } from "./views/report";
import { synthesisView } from "./views/synthesis";

function renderNav(): void {
  const nav = document.getElementById("nav")!;
  const path = window.location.pathname;
  const link = (href: string, label: string, match: (p: string) => boolean) =>
    h("a", { href, "aria-current": match(path) ? "page" : null }, label);
  const user = me();
  mount(
    nav,
    h(
      "ul",
      null,
      h("li", null, link("/", "Signaler", (p) => p === "/" || p === "/signaler")),
      h("li", null, link("/concertations", "Concertations", (p) => p.startsWith("/concertations"))),
      user ? h("li", null, link("/mes-signalements", "Mes signalements", (p) => p === "/mes-signalements")) : null,
      isAgent() ? h("li", null, link("/agent", "Espace agent", (p) => p.startsWith("/agent"))) : null,
      hasRole("moderator") || isAdmin() ? h("li", null, link("/moderation", "Modération", (p) => p === "/moderation")) : null,
      isAdmin() ? h("li", null, link("/admin", "Administration", (p) => p.startsWith("/admin"))) : null,
      h("li", null, link("/donnees", "Données", (p) => p === "/donnees")),
      user
        ? h(
            "li",
            null,
            h(
              "button",
              {
                type: "button",
                class: "linklike",
                onclick: () => {
                  void signOut().then(() => navigate("/"));
                },
              },
              `Déconnexion (${user.pseudonym})`,
            ),
          )
        : null,
      user
        ? h(
            "li",
            null,
            h(
              "button",
              {
                type: "button",
                class: "linklike",
                title: "Ferme aussi les sessions ouvertes sur vos autres appareils",
                onclick: async () => {
                  try {
                    await closeAllSessions();
                  } finally {
                    signOut();
                    navigate("/");
                  }
                },
              },
              "Se déconnecter partout",
            ),
          )
        : h("li", null, link(`/connexion?next=${encodeURIComponent(path)}`, "Connexion", (p) => p === "/connexion")),
    ),
  );
}

async function boot(): Promise<void> {
  const panel = document.getElementById("panel")!;
  setupMenu();
  const config = await loadConfig();
  const cmap = new CartoMap(document.getElementById("map")!, config);
  (window as unknown as { cartoMap: CartoMap }).cartoMap = cmap;
  // Labels fall back to the codes if the vocabulary cannot be read.
  await Promise.all([loadSession(), cmap.ready, loadVocabulary().catch(() => undefined)]);
  onSessionChange(renderNav);
  onNavigate(renderNav);

  route("/", reportView);
  route("/signaler", reportView);
  route("/suivi/:id", followView);
  route("/mes-signalements", myReportsView);
  route("/connexion", loginView);
  route("/concertations", concertationListView);
  route("/concertations/:slug", concertationView);
  route("/concertations/:slug/synthese", synthesisView);
  route("/concertations/:slug/contributions/:id", contributionPageView);
  route("/agent", agentQueueView);
  route("/agent/signalements/:id", ticketView);
  route("/donnees", dataView);
  route("/moderation", moderationView);
  route("/admin", adminHomeView);
  route("/admin/concertations", adminConcertationsView);
  route("/admin/concertations/:slug", adminConcertationView);
  route("/admin/services", adminServicesView);
  route("/admin/competences", adminCompetencesView);
  setNotFound(({ panel: p }) => {
    mount(p, heading("Page introuvable"), h("p", null, "Cette adresse ne correspond à aucune page. "), h("a", { href: "/" }, "Retour à la carte"));
  });
  startRouter(cmap, panel);
  document.body.dataset.ready = "true";
}

void boot();

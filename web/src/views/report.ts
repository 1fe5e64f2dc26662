// Citizen report: where (tap, device position or map centre), what (category),
// who will receive it and why, nearby open reports to support instead, then send.

import { api, ApiError } from "../api/client";
import { categories, type Category } from "../api/categories";
import { announce, errorBox, field, h, mount, uid } from "../dom";
import { icon } from "../icons";
import type { CartoMap, LngLat } from "../map";
import { heading, type ViewContext } from "../router";
import { me } from "../session";
import { showSignalements } from "../widgets/layers";
import { nearbyBlock, previewBlock } from "../widgets/report_context";
import { addressSearch } from "../widgets/search";
import type { Created } from "../api/signalements";
import type { PhotoRef } from "../api/media";

export function territoryJumps(map: CartoMap): HTMLElement | null {
  const ts = map.config.territories;
  if (ts.length < 2) return null;
  return h(
    "div",
    { class: "jumps", role: "group", "aria-label": "Aller à un territoire" },
    ts.map((t) => h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => map.fit(t.bbox, 13) }, t.name)),
  );
}

function categoryPicker(cats: Category[], onPick: (code: string) => void): HTMLFieldSetElement {
  const name = uid("cat");
  return h(
    "fieldset",
    { class: "categories" },
    h("legend", null, "2. Quel est le problème ?"),
    h(
      "div",
      { class: "category-grid" },
      cats.map((c) => {
        const input = h("input", { type: "radio", name, value: c.code, id: uid("cat"), onchange: () => onPick(c.code) });
        return h(
          "label",
          { class: "category", for: input.id, title: c.description },
          input,
          icon(c.icon, 28),
          h("span", null, c.label),
        );
      }),
    ),
  );
}

async function uploadPhoto(file: File): Promise<PhotoRef> {
  const form = new FormData();
  form.append("file", file);
  return api<PhotoRef>("/api/v1/media", { method: "POST", form });
}

function photoField(onChange: (p: PhotoRef | null) => void): HTMLElement {
  const input = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment", name: "photo" });
  const out = h("div", { class: "photo-preview", "aria-live": "polite" });
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    onChange(null);
    if (!file) return mount(out);
    mount(out, h("p", null, "Envoi de la photo…"));
    try {
      const ref = await uploadPhoto(file);
      onChange(ref);
      mount(out, h("img", { src: ref.thumbnail_url ?? ref.url, alt: "Aperçu de la photo jointe", class: "thumb" }), h("p", null, "Photo jointe."));
    } catch (err) {
      input.value = "";
      mount(out, errorBox(err instanceof Error ? err.message : "Envoi de la photo impossible."));
    }
  });
  return h("div", null, field("Photo (facultative)", input, "JPEG, PNG ou WebP ; ses métadonnées (position, appareil) sont effacées."), out);
}

function success(panel: HTMLElement, created: Created): void {
  const id = String(created.id ?? created.service_request_id);
  const ref = created.reference ?? id;
  mount(
    panel,
    heading("Merci, votre signalement est enregistré"),
    h("p", { class: "reference" }, "Référence : ", h("strong", { "data-testid": "reference" }, `n° ${ref}`)),
    h("p", null, "Conservez cette référence : elle permet de suivre le traitement de votre signalement."),
    h("p", null, h("a", { href: `/suivi/${encodeURIComponent(id)}`, class: "btn" }, "Suivre ce signalement")),
    h("p", null, h("a", { href: "/signaler" }, "Faire un autre signalement")),
  );
  announce(`Signalement enregistré, référence ${ref}.`);
}

export async function reportView({ panel, map }: ViewContext): Promise<void> {
  const cats = await categories();
  let at: LngLat | null = null;
  let category: string | null = null;
  let photo: PhotoRef | null = null;

  const where = h("p", { class: "where", "aria-live": "polite" }, "Aucun lieu choisi : touchez la carte à l'endroit du problème.");
  const context = h("div", { class: "report-context" });
  const formError = h("div");

  const refreshContext = async (): Promise<void> => {
    if (!at || !category) {
      mount(context);
      return;
    }
    const here = at;
    const code = category;
    mount(context, h("p", { class: "loading" }, "Recherche du service compétent…"));
    const [preview, nearby] = await Promise.all([previewBlock(here, code), nearbyBlock(here, code)]);
    if (here === at && code === category) mount(context, preview, nearby);
  };

  const setAt = (p: LngLat, fly = false): void => {
    at = p;
    map.setMarker(p, (moved) => setAt(moved));
    if (fly) map.flyTo([p.lng, p.lat]);
    where.textContent = `Lieu choisi : ${p.lat.toFixed(5)}, ${p.lng.toFixed(5)} (vous pouvez déplacer le repère).`;
    void refreshContext();
  };
  map.setClickHandler((p) => setAt(p));

  const locate = (): void => {
    if (!navigator.geolocation) return announce("La géolocalisation n'est pas disponible sur cet appareil.", "error");
    navigator.geolocation.getCurrentPosition(
      (pos) => setAt({ lng: pos.coords.longitude, lat: pos.coords.latitude }, true),
      () => announce("Position introuvable : touchez plutôt la carte.", "error"),
      { enableHighAccuracy: true, timeout: 10000 },
    );
  };

  const description = h("textarea", { name: "description", rows: 4, required: true, maxlength: 4000 });
  const email = h("input", { type: "email", name: "email", autocomplete: "email" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Envoyer le signalement");

  const form = h(
    "form",
    { class: "stack", novalidate: true, "aria-label": "Nouveau signalement" },
    h(
      "fieldset",
      null,
      h("legend", null, "1. Où est-ce ?"),
      addressSearch(map, (p) => setAt(p)),
      where,
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", class: "btn btn-small", onclick: locate }, icon("locate", 18), " Ma position"),
        h("button", { type: "button", class: "btn btn-small", onclick: () => setAt(map.center()) }, "Le centre de la carte"),
      ),
    ),
    categoryPicker(cats, (code) => {
      category = code;
      showSignalements(map, { service_code: code });
      void refreshContext();
    }),
    context,
    h(
      "fieldset",
      null,
      h("legend", null, "3. Décrivez-le"),
      field("Description", description, "Ce que vous voyez, et tout détail utile pour le trouver."),
      photoField((p) => (photo = p)),
      me() ? null : field("Votre e-mail (facultatif)", email, "Pour être prévenu de son traitement ; il n'est jamais publié."),
    ),
    formError,
    submit,
  );

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const problems: string[] = [];
    if (!at) problems.push("Choisissez le lieu sur la carte.");
    if (!category) problems.push("Choisissez une catégorie.");
    if (!description.value.trim()) problems.push("Décrivez le problème.");
    description.setAttribute("aria-invalid", String(!description.value.trim()));
    if (problems.length || !at || !category) {
      mount(formError, errorBox(problems.join(" ")));
      return;
    }
    submit.disabled = true;
    mount(formError);
    try {
      const created = await api<Created>("/api/v1/signalements", {
        method: "POST",
        json: {
          lon: at.lng,
          lat: at.lat,
          service_code: category,
          description: description.value.trim(),
          email: email.value.trim() || undefined,
          photo_id: photo?.id,
        },
      });
      map.setClickHandler(null);
      success(panel, created);
    } catch (err) {
      mount(formError, errorBox(err instanceof ApiError ? err.message : "Envoi impossible, réessayez."));
    } finally {
      submit.disabled = false;
    }
  });

  showSignalements(map, {});
  mount(
    panel,
    heading("Signaler un problème"),
    h("p", { class: "lead" }, "Un nid-de-poule, un dépôt sauvage, un lampadaire éteint ? Indiquez-le sur la carte : nous le transmettons au service compétent."),
    territoryJumps(map),
    form,
  );
}

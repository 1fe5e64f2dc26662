// Citizen report: where (tap, device position or map centre), what (category),
// who will receive it and why, nearby open reports to support instead, then send.

import { ApiError } from "../api/client";
import { categories, type Category } from "../api/categories";
import { announce, errorBox, field, h, mount, uid } from "../dom";
import { icon } from "../icons";
import type { CartoMap, LngLat } from "../map";
import { heading, type ViewContext } from "../router";
import { me } from "../session";
import { showSignalements } from "../widgets/layers";
import { addressSearch } from "../widgets/search";
import { nearbyBlock, previewBlock, refusal } from "../widgets/report_context";
import { errorCode, FieldError, serverFieldErrors } from "../widgets/field_errors";
import { capitalize } from "../labels";
import { createSignalement, type Created } from "../api/signalements";
import { uploadPhoto, type PhotoRef } from "../api/media";

/** Refusals about the place itself, shown once in the "who receives it" card. */
const PLACE_ERRORS = new Set(["outside_territory", "no_competence"]);

const MAX_JUMP_BUTTONS = 8;

export function territoryJumps(map: CartoMap): HTMLElement | null {
  const ts = map.config.territories;
  if (ts.length < 2) return null;
  if (ts.length > MAX_JUMP_BUTTONS) {
    // A national deployment has over a thousand territories: one select, not a wall of
    // buttons a keyboard user would have to Tab through before reaching the form.
    const pick = h("select", { id: uid("jump") }, h("option", { value: "" }, "Choisir un territoire"), ts.map((t, i) => h("option", { value: String(i) }, t.name)));
    pick.addEventListener("change", () => {
      const t = ts[Number(pick.value)];
      if (pick.value && t) map.fit(t.bbox, 13);
    });
    return h("div", { class: "jumps field" }, h("label", { for: pick.id }, "Aller à un territoire"), pick);
  }
  return h(
    "div",
    { class: "jumps", role: "group", "aria-label": "Aller à un territoire" },
    ts.map((t) => h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => map.fit(t.bbox, 13) }, t.name)),
  );
}

function categoryPicker(cats: Category[], onPick: (code: string) => void): { el: HTMLFieldSetElement; error: FieldError } {
  const name = uid("cat");
  const grid = h(
      "div",
      { class: "category-grid", role: "radiogroup", "aria-label": "Catégorie" },
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
    );
  const error = new FieldError([grid], uid("cat-error"));
  return { el: h("fieldset", { class: "categories" }, h("legend", null, "2. Quel est le problème ?"), grid, error.slot), error };
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
  // Focus on the confirmation, not left on <body> with the form gone.
  panel.querySelector<HTMLElement>("h1")?.focus();
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

  const coords = h("input", { type: "text", name: "lieu", readonly: true, id: uid("f"), value: "", placeholder: "aucun lieu choisi" });
  const placeError = new FieldError([coords], uid("place-error"));
  const setAt = (p: LngLat, fly = false): void => {
    at = p;
    coords.value = `${p.lat.toFixed(5)}, ${p.lng.toFixed(5)}`;
    placeError.set(null);
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
  const descriptionError = new FieldError([description], uid("description-error"));
  const emailError = new FieldError([email], uid("email-error"));
  const picker = categoryPicker(cats, (code) => {
    category = code;
    picker.error.set(null);
    showSignalements(map, { service_code: code });
    void refreshContext();
  });
  const fieldWith = (f: HTMLElement, error: FieldError): HTMLElement => {
    f.append(error.slot);
    return f;
  };

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
      fieldWith(field("Coordonnées du lieu", coords), placeError),
    ),
    picker.el,
    context,
    h(
      "fieldset",
      null,
      h("legend", null, "3. Décrivez-le"),
      fieldWith(field("Description", description, "Ce que vous voyez, et tout détail utile pour le trouver."), descriptionError),
      photoField((p) => (photo = p)),
      me() ? null : fieldWith(field("Votre e-mail (facultatif)", email, "Pour être prévenu de son traitement ; il n'est jamais publié."), emailError),
    ),
    formError,
    submit,
  );

  /** A refused submit: the place's refusal in the context card (once), field errors on
   * their fields, anything else above the button. */
  const showRefusal = (err: unknown): void => {
    const body = err instanceof ApiError ? err.body : null;
    const code = errorCode(body);
    if (code && PLACE_ERRORS.has(code) && err instanceof ApiError) {
      mount(formError);
      const box = refusal(err.message);
      mount(context, box);
      box.focus();
      return;
    }
    const fields = serverFieldErrors(body);
    const byField: [string[], FieldError][] = [
      [["lon", "lat"], placeError],
      [["service_code"], picker.error],
      [["description"], descriptionError],
      [["email"], emailError],
    ];
    for (const [names, error] of byField) {
      const message = names.map((n) => fields.get(n)).find(Boolean);
      if (message) error.set(capitalize(message) + ".");
    }
    mount(formError, errorBox(err instanceof ApiError ? err.message : "Envoi impossible, réessayez."));
    byField.find(([, e]) => e.invalid)?.[1].focus();
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const refused = context.querySelector<HTMLElement>("[data-testid=routing-refused]");
    const checks: [FieldError, string | null][] = [
      [placeError, at ? null : "Choisissez le lieu sur la carte (touchez-la, ou « Ma position », ou « Le centre de la carte »)."],
      [picker.error, category ? null : "Choisissez une catégorie."],
      [descriptionError, description.value.trim() ? null : "Décrivez le problème."],
      [emailError, email.value.trim() && email.validity.typeMismatch ? "Adresse e-mail invalide : elle s'écrit comme prenom.nom@exemple.fr." : null],
    ];
    for (const [error, message] of checks) error.set(message);
    const problems = checks.filter(([, m]) => m).map(([, m]) => m as string);
    if (problems.length || !at || !category) {
      mount(formError, errorBox(problems.join(" ")));
      checks.find(([, m]) => m)?.[0].focus();
      return;
    }
    if (refused) {
      // The place is not covered: its one message is above, with where to report instead.
      mount(formError);
      refused.focus();
      return;
    }
    submit.disabled = true;
    mount(formError);
    try {
      const created = await createSignalement({
        lon: at.lng,
        lat: at.lat,
        service_code: category,
        description: description.value.trim(),
        email: email.value.trim() || undefined,
        photo_id: photo?.id,
      });
      map.setClickHandler(null);
      success(panel, created);
    } catch (err) {
      showRefusal(err);
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

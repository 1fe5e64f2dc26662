// The address search box of every map: suggestions as you type (debounced, biased to
// the map view), the WAI-ARIA combobox pattern (arrows, Enter, Escape,
// aria-activedescendant, a polite live region with the count), and the map flown to
// the chosen place. The report screen also places its point there.

import { ApiError } from "../api/client";
import { searchPlaces, type Place } from "../api/geocode";
import { h, mount, uid } from "../dom";
import type { CartoMap, LngLat } from "../map";

const DEBOUNCE_MS = 250;
const MIN_CHARS = 3; // as the national address API: fewer letters match too much
const ZOOM: Record<string, number> = { housenumber: 18, street: 16, locality: 16, municipality: 13 };
const TYPE_LABEL: Record<string, string> = { housenumber: "adresse", street: "voie", locality: "lieu-dit", municipality: "commune" };

export type PickHandler = (at: LngLat, place: Place) => void;

/** The search box as an element, for a view to place in its panel. */
export function addressSearch(map: CartoMap, onPick?: PickHandler): HTMLElement {
  const listId = uid("search-list");
  const input = h("input", {
    type: "text",
    id: uid("search"),
    role: "combobox",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Adresse, rue, commune ou code postal",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
  });
  const list = h("ul", { id: listId, role: "listbox", class: "search-list", "aria-label": "Suggestions d'adresses", hidden: true });
  const live = h("div", { class: "sr-only", "aria-live": "polite", "data-testid": "search-status" });
  const note = h("p", { class: "search-note", hidden: true });
  let places: Place[] = [];
  let active = -1;
  let seq = 0;
  let timer: number | undefined;

  const say = (text: string, visible = false): void => {
    live.textContent = text;
    note.textContent = text;
    note.hidden = !visible;
  };
  const close = (): void => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (i: number): void => {
    active = i;
    list.querySelectorAll("[role=option]").forEach((el, j) => el.setAttribute("aria-selected", String(j === i)));
    if (i < 0) return input.removeAttribute("aria-activedescendant");
    const el = list.children[i] as HTMLElement;
    input.setAttribute("aria-activedescendant", el.id);
    el.scrollIntoView({ block: "nearest" });
  };
  const pick = (p: Place): void => {
    input.value = p.label;
    close();
    say(`Carte centrée sur ${p.label}.`);
    map.map.flyTo({ center: [p.lon, p.lat], zoom: ZOOM[p.type] ?? 15 });
    onPick?.({ lng: p.lon, lat: p.lat }, p);
  };
  const show = (found: Place[]): void => {
    places = found;
    mount(
      list,
      found.map((p, i) =>
        h(
          "li",
          { id: `${listId}-${i}`, role: "option", "aria-selected": "false", onmousedown: (ev: Event) => ev.preventDefault(), onclick: () => pick(p) },
          h("span", { class: "search-label" }, p.label),
          h("span", { class: "search-kind" }, ` ${TYPE_LABEL[p.type] ?? ""}`),
        ),
      ),
    );
    active = -1;
    input.removeAttribute("aria-activedescendant");
    const open = found.length > 0 && document.activeElement === input; // not after Tab away
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    if (found.length) say(`${found.length} suggestion${found.length > 1 ? "s" : ""} : flèches haut et bas pour choisir, Entrée pour valider.`);
    else say("Aucun résultat pour cette recherche.", true);
  };
  const search = async (): Promise<Place[]> => {
    const q = input.value.trim();
    const mine = ++seq;
    if (q.length < MIN_CHARS) {
      places = [];
      close();
      say("");
      return [];
    }
    try {
      const found = await searchPlaces(q, map.center());
      if (mine === seq) show(found);
      return found;
    } catch (err) {
      if (mine === seq) {
        places = [];
        close();
        say(`Recherche d'adresse impossible : ${err instanceof ApiError ? err.message : "réessayez."}`, true);
      }
      return [];
    }
  };

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void search(), DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (ev) => {
    const open = !list.hidden && places.length > 0;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!open) {
        if (places.length) show(places);
        return;
      }
      const n = places.length;
      highlight(ev.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n : active) - 1);
    } else if (ev.key === "Enter") {
      ev.preventDefault(); // never submit the surrounding form
      if (open && active >= 0) return pick(places[active]);
      window.clearTimeout(timer);
      void search().then((found) => (found.length ? pick(found[0]) : undefined));
    } else if (ev.key === "Escape") {
      if (open) {
        ev.preventDefault();
        close();
      } else if (input.value) {
        ev.preventDefault();
        input.value = "";
        say("");
      }
    }
  });
  input.addEventListener("blur", () => close());

  return h(
    "div",
    { class: "map-search", role: "search" },
    h("label", { for: input.id, class: "sr-only" }, "Rechercher une adresse, une rue, une commune ou un code postal"),
    input,
    list,
    note,
    live,
  );
}

/** Put the search box on the map (top left) for the current view; gone at the next one. */
export function mountSearch(map: CartoMap, onPick?: PickHandler): void {
  const tools = document.querySelector(".map-wrap");
  if (!tools) return;
  const box = addressSearch(map, onPick);
  box.classList.add("on-map");
  tools.append(box);
  map.addCleanup(() => box.remove());
}

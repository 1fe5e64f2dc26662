// On a phone the main menu folds behind one "Menu" button (a disclosure: aria-expanded,
// Escape closes it and gives the focus back), so the map keeps the screen.

import { h } from "./dom";
import { onNavigateStart } from "./router";

const PHONE = window.matchMedia("(max-width: 899px)");

/** Add the disclosure button before `#nav`; the CSS folds the menu on narrow screens only. */
export function setupMenu(): void {
  const nav = document.getElementById("nav");
  if (!nav || document.getElementById("menu-toggle")) return;
  const button = h("button", { type: "button", id: "menu-toggle", class: "menu-toggle", "aria-expanded": "false", "aria-controls": "nav" },
    h("span", { class: "menu-bars", "aria-hidden": "true" }), "Menu");
  const setOpen = (open: boolean): void => {
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  };
  button.addEventListener("click", () => setOpen(button.getAttribute("aria-expanded") !== "true"));
  (nav.parentElement ?? nav).addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && PHONE.matches && nav.classList.contains("open")) {
      setOpen(false);
      button.focus();
    }
  });
  nav.before(button);
  onNavigateStart(() => setOpen(false));
}

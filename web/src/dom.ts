// Building the page without innerHTML: every string becomes a text node, so
// user-written text (descriptions, titles, comments) can never become markup.

export type Child = Node | string | number | null | undefined | false | Child[];
type Listener = (ev: Event) => void;
export type Attrs = Record<string, string | number | boolean | Listener | null | undefined>;

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    parent.appendChild(document.createTextNode(String(child)));
  }
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.setAttribute("class", String(value));
    } else if (value === true) {
      el.setAttribute(key, "");
    } else if (key === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(value);
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

/** An HTML element with attributes and children (strings are text, never markup). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element (icons, charts). */
export function s(tag: string, attrs?: Record<string, string | number>, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

/** Replace all children of `el`. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "id"): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field (label, control, optional hint), wired for screen readers. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLDivElement {
  if (!control.id) control.id = uid("f");
  const hintEl = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), hintEl, control);
}

/** Announce a message in the polite live region (and show it briefly). */
export function announce(message: string, kind: "info" | "error" = "info"): void {
  const status = document.getElementById("status");
  if (!status) return;
  status.className = `status status-${kind} visible`;
  status.textContent = message;
  window.setTimeout(() => {
    if (status.textContent === message) status.classList.remove("visible");
  }, 6000);
}

/** An inline error box, announced to screen readers. */
export function errorBox(message: string): HTMLDivElement {
  return h("div", { class: "alert alert-error", role: "alert" }, message);
}

const DATE_FMT = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeStyle: "short" });
const DAY_FMT = new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium" });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE_FMT.format(d);
}

export function formatDay(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DAY_FMT.format(d);
}

/** "il y a 3 jours" style age, for queues sorted by age. */
export function formatAge(iso: string | null | undefined): string {
  if (!iso) return "";
  const days = Math.floor((Date.now() - new Date(iso).getTime()) / 86_400_000);
  if (days <= 0) return "aujourd'hui";
  if (days === 1) return "1 jour";
  return `${days} jours`;
}

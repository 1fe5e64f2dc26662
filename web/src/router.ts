// History-API routing: each path is a view that fills the panel and sets up the map.

import { announce, h, mount } from "./dom";
import type { CartoMap } from "./map";

export interface ViewContext {
  panel: HTMLElement;
  map: CartoMap;
  params: Record<string, string>;
  query: URLSearchParams;
}

export type View = (ctx: ViewContext) => Promise<void> | void;

interface Route {
  pattern: RegExp;
  keys: string[];
  view: View;
}

const routes: Route[] = [];
let cmap: CartoMap;
let panel: HTMLElement;
let notFound: View = () => undefined;
let firstRender = true;
const afterNavigate: (() => void)[] = [];
const startNavigate: (() => void)[] = [];

/** Register a view for a path like "/suivi/:id". */
export function route(path: string, view: View): void {
  const keys: string[] = [];
  const source = path.replace(/:(\w+)/g, (_m, key: string) => {
    keys.push(key);
    return "([^/]+)";
  });
  routes.push({ pattern: new RegExp(`^${source}/?$`), keys, view });
}

export function setNotFound(view: View): void {
  notFound = view;
}

export function onNavigate(fn: () => void): void {
  afterNavigate.push(fn);
}

/** Run `fn` as soon as a navigation starts, before the new view has loaded: what the
 * user opens while it loads (the folded menu) must not snap shut when it arrives. */
export function onNavigateStart(fn: () => void): void {
  startNavigate.push(fn);
}

/** Go to `path` inside the app (pushes history). */
export function navigate(path: string, replace = false): void {
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  void render();
}

/** Set the document title and return the view's heading (focused after navigation). */
export function heading(text: string): HTMLHeadingElement {
  document.title = `${text} — Carto`;
  return h("h1", { tabindex: "-1", class: "view-title" }, text);
}

let renderCount = 0;

async function render(): Promise<void> {
  const url = new URL(window.location.href);
  const path = decodeURIComponent(url.pathname);
  const ticket = ++renderCount;
  for (const fn of startNavigate) fn();
  document.body.dataset.section = path.split("/")[1] ?? "";
  cmap.reset();
  // Each render fills its own slot: a slow view of an earlier page that finishes
  // after the user moved on writes into a detached slot, not over the new page.
  const slot = h("div", { class: "view" });
  mount(panel, slot);
  mount(slot, h("p", { class: "loading" }, "Chargement…"));
  let view = notFound;
  const params: Record<string, string> = {};
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m) {
      r.keys.forEach((k, i) => (params[k] = m[i + 1]));
      view = r.view;
      break;
    }
  }
  try {
    await view({ panel: slot, map: cmap, params, query: url.searchParams });
  } catch (err) {
    if (ticket !== renderCount) return;
    const message = err instanceof Error ? err.message : String(err);
    mount(slot, heading("Erreur"), h("div", { class: "alert alert-error", role: "alert" }, message));
    announce(message, "error");
  }
  if (ticket !== renderCount) return;
  for (const fn of afterNavigate) fn();
  if (!firstRender) panel.querySelector<HTMLElement>("h1")?.focus();
  firstRender = false;
}

const RESERVED = /^\/(api|open311|ogc|tiles|exports|media|healthz|docs|redoc|openapi\.json)(\/|$)/;

/** Start routing: intercept same-origin links to app pages, render the current path. */
export function startRouter(map: CartoMap, panelEl: HTMLElement): void {
  cmap = map;
  panel = panelEl;
  document.addEventListener("click", (ev) => {
    const a = (ev.target as Element | null)?.closest?.("a");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    if (a.target || a.hasAttribute("download") || a.origin !== window.location.origin) return;
    if (RESERVED.test(a.pathname) || a.getAttribute("href")?.startsWith("#")) return;
    ev.preventDefault();
    navigate(a.pathname + a.search);
  });
  window.addEventListener("popstate", () => void render());
  void render();
}

// Small helpers the staff screens share: a form that calls the API and shows the
// server's French message, date fields, and a guard for role-only pages.

import { ApiError } from "./api/client";
import { announce, errorBox, h, mount } from "./dom";
import { navigate } from "./router";
import { hasRole, me } from "./session";

/** Wire `form` to `send`: disables the submit button meanwhile, shows refusals in `out`. */
export function onSubmit(form: HTMLFormElement, out: HTMLElement, send: () => Promise<string | void>): void {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (submit) submit.disabled = true;
    mount(out);
    try {
      const message = await send();
      if (message) {
        mount(out, h("p", { class: "alert alert-ok", role: "status" }, message));
        announce(message);
      }
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError || err instanceof Error ? err.message : "Action impossible."));
    } finally {
      if (submit) submit.disabled = false;
    }
  });
}

/** A live region for a form's result. */
export function outlet(): HTMLDivElement {
  return h("div", { "aria-live": "polite" });
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** An ISO date as the value of a `datetime-local` input (local time). */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value as an ISO instant, or null when empty or invalid. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Codes typed as a list ("59350, 59512 59009") without blanks or repeats. */
export function codesOf(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((c) => c.trim()).filter(Boolean))];
}

/** True when signed in with one of `roles`; otherwise sends to the sign-in page. */
export function requireRole(path: string, ...roles: string[]): boolean {
  if (me() && roles.some((r) => hasRole(r))) return true;
  if (me()) throw new ApiError("Cette page est réservée : votre compte n'a pas le rôle nécessaire.", 403, null);
  navigate(`/connexion?next=${encodeURIComponent(path)}`, true);
  return false;
}

let flash: string | null = null;

/** A message for the next render of a page (after a reload that follows a change). */
export function setFlash(message: string): void {
  flash = message;
}

/** The pending message as a status box, once. */
export function takeFlash(): HTMLElement | null {
  const message = flash;
  flash = null;
  return message ? h("p", { class: "alert alert-ok", role: "status" }, message) : null;
}

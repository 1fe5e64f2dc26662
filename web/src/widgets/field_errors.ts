// Per-field error messages for a form: each field that fails gets aria-invalid and a
// French message tied to it by aria-describedby (WCAG 3.3.1), not only the first one.

import { h } from "../dom";

export class FieldError {
  /** The message element; put it inside the field, after its control. */
  readonly slot: HTMLParagraphElement;

  constructor(
    private readonly controls: HTMLElement[],
    id: string,
  ) {
    this.slot = h("p", { class: "field-error", id, hidden: true });
  }

  /** Show `message` on the field (null clears it). */
  set(message: string | null): void {
    this.slot.textContent = message ?? "";
    this.slot.hidden = !message;
    for (const c of this.controls) {
      const ids = (c.getAttribute("aria-describedby") ?? "").split(" ").filter((x) => x && x !== this.slot.id);
      if (message) {
        c.setAttribute("aria-invalid", "true");
        ids.push(this.slot.id);
      } else {
        c.removeAttribute("aria-invalid");
      }
      if (ids.length) c.setAttribute("aria-describedby", ids.join(" "));
      else c.removeAttribute("aria-describedby");
    }
  }

  get invalid(): boolean {
    return !this.slot.hidden;
  }

  focus(): void {
    this.controls[0]?.focus();
  }
}

/** The server's per-field errors (`errors: [{field, message}]` of a 422), by field name. */
export function serverFieldErrors(body: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const errors = body && typeof body === "object" ? (body as { errors?: unknown }).errors : null;
  if (!Array.isArray(errors)) return out;
  for (const e of errors as { field?: unknown; message?: unknown }[]) {
    const field = String(e.field ?? "");
    if (field && !out.has(field)) out.set(field, String(e.message ?? "valeur invalide"));
  }
  return out;
}

/** The error code of a Carto error answer (`outside_territory`, `invalid_input`…). */
export function errorCode(body: unknown): string | null {
  const code = body && typeof body === "object" ? (body as { error?: unknown }).error : null;
  return typeof code === "string" ? code : null;
}

// Sign in (citizens, agents, administrators) and sign up (citizens).

import { signUp } from "../api/accounts";
import { ApiError } from "../api/client";
import { errorBox, field, h, mount } from "../dom";
import { heading, navigate, type ViewContext } from "../router";
import { isAgent, signIn } from "../session";

function safeNext(next: string | null): string | null {
  return next && next.startsWith("/") && !next.startsWith("//") && next !== "/connexion" ? next : null;
}

function signUpForm(): HTMLElement {
  const pseudonym = h("input", { type: "text", name: "pseudonym", autocomplete: "nickname", required: true, maxlength: 60 });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack", "aria-labelledby": "signup-title" },
    h("h2", { id: "signup-title" }, "Créer un compte"),
    field("Pseudonyme (affiché publiquement)", pseudonym),
    field("Adresse e-mail", email, "Jamais publiée."),
    field("Mot de passe", password, "Au moins 8 caractères."),
    out,
    h("button", { type: "submit", class: "btn" }, "Créer mon compte"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await signUp({ pseudonym: pseudonym.value.trim(), email: email.value.trim(), password: password.value });
      mount(out, h("p", { class: "alert alert-ok", role: "status" }, r.message ?? "Compte créé : consultez vos e-mails."));
      form.reset();
    } catch (err) {
      mount(out, errorBox(err instanceof ApiError ? err.message : "Inscription impossible."));
    }
  });
  return form;
}

export function loginView({ panel, query }: ViewContext): void {
  const email = h("input", { type: "email", name: "username", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const out = h("div");
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Se connecter");
  const form = h(
    "form",
    { class: "stack", "aria-label": "Connexion" },
    field("Adresse e-mail", email),
    field("Mot de passe", password),
    out,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    try {
      await signIn(email.value.trim(), password.value);
      navigate(safeNext(query.get("next")) ?? (isAgent() ? "/agent" : "/"));
    } catch (err) {
      mount(out, errorBox(err instanceof Error ? err.message : "Connexion impossible."));
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  mount(
    panel,
    heading("Connexion"),
    h("p", null, "Citoyens, agents et administrateurs se connectent ici."),
    form,
    signUpForm(),
  );
}

// Accounts: the signed-in user, sign-in and sign-out, sign-up, and an administrator's authorities.

import { api, itemsOf } from "./client";

export interface RoleGrant {
  role: string;
  service_id?: number | null;
  authority_id?: number | null;
}

export interface Me {
  id: number;
  email: string;
  pseudonym: string;
  roles: RoleGrant[];
}

export async function loadMe(): Promise<Me> {
  return api<Me>("/api/v1/me");
}

/** The OAuth2 password form; the answer's token is not kept (the server set an HttpOnly cookie). */
export async function openSession(email: string, password: string): Promise<void> {
  const form = new URLSearchParams({ username: email, password });
  await api<unknown>("/api/v1/auth/token", { method: "POST", form, auth: false });
}

/** The server clears the session cookie. */
export async function closeSession(): Promise<void> {
  await api<unknown>("/api/v1/auth/session", { method: "DELETE", auth: false });
}

/** Revoke every session of the user, on all their devices. */
export async function closeAllSessions(): Promise<void> {
  await api<unknown>("/api/v1/auth/logout-all", { method: "POST" });
}

export interface SignUp {
  email: string;
  password: string;
  pseudonym: string;
}

export async function signUp(body: SignUp): Promise<{ message?: string }> {
  return api<{ message?: string }>("/api/v1/auth/signup", { method: "POST", json: body, auth: false });
}

export interface AuthorityRef {
  id: number;
  slug: string;
  name: string;
  kind: string;
  code: string;
}

export async function myAuthorities(): Promise<AuthorityRef[]> {
  return itemsOf<AuthorityRef>(await api("/api/v1/admin/authorities"));
}

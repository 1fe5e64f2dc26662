// Who is signed in, and what they may see: read once from the API after sign-in.

import { closeSession, loadMe, openSession, type Me } from "./api/accounts";
import { isSignedIn, setSignedIn } from "./api/client";

export type { Me, RoleGrant } from "./api/accounts";

let current: Me | null = null;
const listeners: (() => void)[] = [];

export function me(): Me | null {
  return current;
}

export function hasRole(role: string): boolean {
  return !!current?.roles.some((r) => r.role === role);
}

export const isAgent = (): boolean => hasRole("agent") || hasRole("admin");
export const isAdmin = (): boolean => hasRole("admin");

export function onSessionChange(fn: () => void): void {
  listeners.push(fn);
}

function changed(): void {
  for (const fn of listeners) fn();
}

/** Load the signed-in user when a session was opened (an expired one is forgotten). */
export async function loadSession(): Promise<Me | null> {
  if (!isSignedIn()) {
    current = null;
    return null;
  }
  try {
    current = await loadMe();
  } catch {
    current = null;
    setSignedIn(false);
  }
  changed();
  return current;
}

/** Sign in with the OAuth2 password form; resolves with the user. */
export async function signIn(email: string, password: string): Promise<Me> {
  await openSession(email, password);
  setSignedIn(true);
  const user = await loadSession();
  if (!user) throw new Error("Connexion impossible.");
  return user;
}

/** Sign out: the server clears the session cookie. */
export async function signOut(): Promise<void> {
  try {
    await closeSession();
  } catch {
    // offline: the cookie still expires with the token
  }
  setSignedIn(false);
  current = null;
  changed();
}

// The one place that talks to the back end, and errors turned into French messages
// the page can show as they are.
//
// The access token never reaches script-readable storage: at sign-in the server sets
// it as an HttpOnly, SameSite=Strict cookie, which the browser sends with every call
// below; the X-Requested-With header is what makes the server count that cookie (a
// cross-site page cannot send it). Only a "signed in" flag is kept, so that an
// anonymous visit does not ask /api/v1/me for nothing.

const SIGNED_IN_KEY = "carto.signedIn";
const WEB_CLIENT = { "X-Requested-With": "carto-web" };

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export function isSignedIn(): boolean {
  return window.localStorage.getItem(SIGNED_IN_KEY) === "1";
}

export function setSignedIn(signedIn: boolean): void {
  if (signedIn) window.localStorage.setItem(SIGNED_IN_KEY, "1");
  else window.localStorage.removeItem(SIGNED_IN_KEY);
}

const STATUS_MESSAGES: Record<number, string> = {
  401: "Vous devez vous connecter pour faire cela.",
  403: "Vous n'avez pas le droit de faire cela.",
  404: "Introuvable.",
  409: "Cette action n'est pas possible dans l'état actuel.",
  413: "Le fichier est trop volumineux.",
  429: "Trop de demandes : réessayez dans une minute.",
};

/** The user-readable message of an error answer (Carto's JSON, Open311's array, or pydantic's). */
function messageOf(status: number, body: unknown): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const errors = Array.isArray(b.errors) ? (b.errors as Record<string, unknown>[]) : [];
    const fields = errors
      .map((e) => (e.field ? `${String(e.field)} : ${String(e.message ?? "")}` : String(e.message ?? "")))
      .filter(Boolean);
    if (typeof b.message === "string") return fields.length ? `${b.message} (${fields.join(" ; ")})` : b.message;
    if (typeof b.detail === "string") return b.detail;
    if (Array.isArray(body) && body[0] && typeof body[0].description === "string") return body[0].description;
  }
  return STATUS_MESSAGES[status] ?? `Erreur du serveur (${status}). Réessayez plus tard.`;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== null && v !== undefined && v !== "" && v !== false) params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

interface RequestOptions {
  method?: string;
  query?: Query;
  json?: unknown;
  form?: FormData | URLSearchParams;
  /** false: a 401 answer here does not mean the session ended (sign-in, sign-up). */
  auth?: boolean;
}

/** Call the API; resolve with the parsed JSON, reject with an ApiError carrying a French message. */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...WEB_CLIENT };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  let resp: Response;
  try {
    resp = await fetch(withQuery(path, opts.query), {
      method: opts.method ?? "GET",
      headers,
      body,
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError("Le serveur ne répond pas : vérifiez votre connexion.", 0, null);
  }
  const text = await resp.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!resp.ok) {
    if (resp.status === 401 && opts.auth !== false) setSignedIn(false);
    throw new ApiError(messageOf(resp.status, data), resp.status, data);
  }
  return data as T;
}

/** A list answer that may be a bare array, a paged object or a GeoJSON FeatureCollection. */
export function itemsOf<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  if (data && typeof data === "object") {
    const d = data as Record<string, unknown>;
    for (const key of ["items", "results", "features", "data"]) {
      if (Array.isArray(d[key])) return d[key] as T[];
    }
  }
  return [];
}

// The typed client of Shequn's API: paths and bodies come from the OpenAPI (schema.d.ts,
// regenerated with `npm run api-types`), so a backend change that breaks a page fails the build.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

const CSRF_KEY = "shequn.csrf";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

// The CSRF token is answered once, at sign-in; the session cookie itself stays HttpOnly.
export const csrf = {
  get: (): string | null => localStorage.getItem(CSRF_KEY),
  set: (token: string): void => localStorage.setItem(CSRF_KEY, token),
  clear: (): void => localStorage.removeItem(CSRF_KEY),
};

let language = "zh-CN";
export function setApiLanguage(lang: string): void {
  language = lang;
}

let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

const session: Middleware = {
  onRequest({ request }) {
    // Errors come back in the console's language.
    request.headers.set("Accept-Language", language);
    const token = csrf.get();
    if (!SAFE.has(request.method) && token) request.headers.set("X-CSRF-Token", token);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !request.url.endsWith("/api/v1/auth/login")) onSignedOut();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(session);

/** The message of a problem+json answer, else the status line. */
export function problemText(error: unknown, response: Response): string {
  const problem = error as Partial<Schemas["Problem"]> | undefined;
  return problem?.detail || problem?.title || `${response.status} ${response.statusText}`;
}

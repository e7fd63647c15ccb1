// Who is signed in, and in which workspaces: asked of the API (the cookie is HttpOnly).
import { reactive } from "vue";
import { api, csrf, type Schemas } from "./api/client";

export const session = reactive<{ me: Schemas["MeOut"] | null; checked: boolean }>({
  me: null,
  checked: false,
});

/** The signed-in person, asked once per page load (null when signed out). */
export async function whoAmI(): Promise<Schemas["MeOut"] | null> {
  if (!session.checked) {
    // No CSRF token kept: this browser signed out (or never in); skip the 401.
    const { data } = csrf.get() ? await api.GET("/api/v1/auth/me") : { data: undefined };
    if (data) csrf.set(data.csrf_token); // the session's own token, renewed with every check
    session.me = data ?? null;
    session.checked = true;
  }
  return session.me;
}

export async function signIn(
  body: Schemas["SignInIn"],
): Promise<{ ok: true } | { ok: false; error: unknown; response: Response }> {
  const { data, error, response } = await api.POST("/api/v1/auth/login", { body });
  if (!data) return { ok: false, error, response };
  csrf.set(data.csrf_token);
  session.me = data;
  session.checked = true;
  return { ok: true };
}

export async function signOut(): Promise<void> {
  await api.POST("/api/v1/auth/logout");
  forget();
}

export function forget(): void {
  csrf.clear();
  session.me = null;
  session.checked = true;
}

export function roleIn(ws: string): string | null {
  return session.me?.workspaces.find((w) => w.workspace === ws)?.role ?? null;
}

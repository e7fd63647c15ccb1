// The console's pages. Its paths are `/`, `/login` and `/w/…` only: the server falls back to
// index.html for exactly these (src/shequn/web/console.py, PAGES).
import { createRouter, createWebHistory } from "vue-router";
import { api, whenSignedOut } from "./api/client";
import { forget, roleIn, whoAmI } from "./session";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/login", name: "login", component: () => import("./views/LoginView.vue") },
    { path: "/", name: "workspaces", component: () => import("./views/WorkspacesView.vue") },
    {
      path: "/w/:ws",
      component: () => import("./views/WorkspaceLayout.vue"),
      props: true,
      children: [
        { path: "", name: "overview", component: () => import("./views/OverviewView.vue") },
        { path: "groups", name: "groups", component: () => import("./views/GroupsView.vue") },
        { path: "members", name: "members", component: () => import("./views/MembersView.vue") },
        {
          path: "violations",
          name: "violations",
          component: () => import("./views/ViolationsView.vue"),
        },
      ],
    },
    { path: "/:rest(.*)*", redirect: "/" },
  ],
});

router.beforeEach(async (to) => {
  if (to.name === "login") return true;
  const me = await whoAmI();
  if (!me) return { name: "login", query: { next: to.fullPath } };
  const ws = to.params.ws;
  if (typeof ws === "string" && roleIn(ws) === null) return { name: "workspaces" };
  if (to.name === "workspaces" && me.workspaces.length === 1) {
    return { name: "overview", params: { ws: me.workspaces[0]!.workspace } };
  }
  return true;
});

// A session that expired or was revoked: back to the sign-in page.
whenSignedOut(() => {
  forget();
  if (router.currentRoute.value.name !== "login") void router.push({ name: "login" });
});

export { api };

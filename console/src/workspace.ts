// The chosen workspace's settings that every page needs (its time zone).
import { ref, watch, type Ref } from "vue";
import { api, type Schemas } from "./api/client";

export function useWorkspace(ws: Ref<string>): Ref<Schemas["WorkspaceOut"] | null> {
  const info = ref<Schemas["WorkspaceOut"] | null>(null);
  watch(
    ws,
    async (name) => {
      const { data } = await api.GET("/api/v1/workspaces/{ws}", { params: { path: { ws: name } } });
      info.value = data ?? null;
    },
    { immediate: true },
  );
  return info;
}

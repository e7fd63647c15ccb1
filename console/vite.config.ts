// The console builds into the Python package, which serves it at `/` beside the API.
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: "../src/shequn/web/console_dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev` beside a running `shequn serve`: the API answers through the proxy.
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});

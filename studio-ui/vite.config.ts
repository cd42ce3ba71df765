import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The built files ship inside the Python package (src/parley/studio/static), so that
// `pip install parley[studio]` needs no Node. Relative asset URLs: the server may mount the UI anywhere.
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir: "../src/parley/studio/static",
    emptyOutDir: true,
    target: "es2021",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` against a running `parley studio` on its default port.
    proxy: { "/api": { target: "http://127.0.0.1:8081", ws: true } },
  },
});

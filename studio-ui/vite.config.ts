import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

// The built files ship inside the Python package (src/parley/studio/static), so that
// `pip install parley[studio]` needs no Node. Relative asset URLs: the server may mount the UI anywhere.
// Defence in depth against script injection: the built page runs only its own files (no inline
// script, no eval), talks only to its own server, shows only its own and data: images (a remote
// image in model output is a link to click, not a request made by itself: its URL could carry the
// conversation out). Style attributes stay allowed (React Flow positions nodes with them). Build only:
// the dev server's hot reload needs inline script.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

const contentSecurityPolicy: Plugin = {
  name: "parley-studio-csp",
  apply: "build",
  transformIndexHtml: () => [{ tag: "meta", attrs: { "http-equiv": "Content-Security-Policy", content: CSP }, injectTo: "head-prepend" }],
};

export default defineConfig({
  plugins: [react(), contentSecurityPolicy],
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

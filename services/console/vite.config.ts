import { defineConfig } from 'vite';

// Every asset bundled (no CDN), no inline script (the API's Content-Security-Policy forbids it).
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0, chunkSizeWarningLimit: 400 },
});

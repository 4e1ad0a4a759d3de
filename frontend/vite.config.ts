/// <reference types="vitest" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` serves the app with hot reload and forwards the API to a running bk-ingress:
// BK_API_URL if set, else http://127.0.0.1:$BK_HTTP_PORT (8080 by default, as `./bk run` starts it).
const api = process.env.BK_API_URL ?? `http://127.0.0.1:${process.env.BK_HTTP_PORT ?? '8080'}`;
const proxied = { target: api, changeOrigin: false };

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      '/tickets': proxied,
      '/book': proxied,
      '/bookings': proxied,
      '/health': proxied,
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    // Hashed names under /assets/: bk-ingress caches those for a year, index.html never.
    assetsDir: 'assets',
  },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
});

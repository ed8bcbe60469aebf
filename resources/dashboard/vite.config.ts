/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The C++ server embeds dist/ with qt_add_resources and serves it at `/`,
// so asset paths are relative and the output is a fixed, short file list:
// index.html, assets/dashboard.js, assets/dashboard.css (no hashes: the
// CMake resource list names them; the server sends them with no-cache).
export default defineConfig({
  base: './',
  plugins: [react()],
  build: {
    target: 'es2020',
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 8192,
    cssCodeSplit: false,
    modulePreload: false,
    sourcemap: false,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/dashboard.js',
        chunkFileNames: 'assets/dashboard-[name].js',
        assetFileNames: 'assets/dashboard[extname]',
        inlineDynamicImports: true,
      },
    },
  },
  server: {
    // `npm run dev` talks to a running gateway (or the dev mock) on :8080.
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
});

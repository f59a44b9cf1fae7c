/* Vite build of the studio UI into web/dist (served by `voiceclone serve` at /).
 * `npm run dev` proxies /api to a running server (VCS_API, default 127.0.0.1:8080).
 * Vitest runs component tests in jsdom. */
import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 800 },
  server: { proxy: { '/api': (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.VCS_API ?? 'http://127.0.0.1:8080' } },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'], setupFiles: ['src/test/setup.ts'] },
})

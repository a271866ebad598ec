import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);

/** Ships Swagger UI's files with the web app, so `/docs` works without any CDN (and offline). */
function swaggerUiAssets(): Plugin {
  const folder = dirname(require.resolve('swagger-ui-dist/package.json'));
  return {
    name: 'swagger-ui-assets',
    generateBundle() {
      for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
        this.emitFile({ type: 'asset', fileName: `docs/${file}`, source: readFileSync(join(folder, file)) });
      }
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), tailwindcss(), swaggerUiAssets()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});

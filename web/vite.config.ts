import { defineConfig, type Plugin } from 'vite';
import preact from '@preact/preset-vite';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// The API document and Swagger UI ride along with the client: the backend serves dist/ as it is.
function apiDocs(): Plugin {
  return {
    name: 'api-docs',
    apply: 'build',
    closeBundle() {
      const dist = resolve(here, 'dist');
      copyFileSync(resolve(here, '../contracts/openapi.json'), resolve(dist, 'openapi.json'));
      const swagger = resolve(here, 'node_modules/swagger-ui-dist');
      mkdirSync(resolve(dist, 'docs'), { recursive: true });
      for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
        copyFileSync(resolve(swagger, file), resolve(dist, 'docs', file));
      }
      copyFileSync(resolve(here, 'docs-init.js'), resolve(dist, 'docs', 'init.js'));
      writeFileSync(
        resolve(dist, 'docs', 'index.html'),
        `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>
`,
      );
    },
  };
}

export default defineConfig({
  plugins: [preact(), apiDocs()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
});

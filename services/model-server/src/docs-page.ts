// GET /docs: Swagger UI for /openapi.json, served from the local swagger-ui-dist package (no CDN). The asset
// directory is found next to the running code (works from dist/ and from the one-file image bundle) or from
// GSG_DOCS_ASSETS_DIR.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The only files /docs serves (no directory listing, no path traversal). */
export const DOCS_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Where swagger-ui-dist's files are, or undefined when they are not installed. */
export function findDocsAssetsDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GSG_DOCS_ASSETS_DIR) return existsSync(join(env.GSG_DOCS_ASSETS_DIR, 'swagger-ui-bundle.js')) ? env.GSG_DOCS_ASSETS_DIR : undefined;
  try {
    return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  } catch {
    return undefined;
  }
}

export function docsHtml(title: string): string {
  const t = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${t}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, tryItOutEnabled: true });
</script>
</body>
</html>
`;
}

/** The file behind /docs/<name> when it is a whitelisted asset and installed. */
export function docsAssetPath(dir: string | undefined, name: string): { path: string; type: string } | undefined {
  const type = DOCS_ASSETS[name];
  if (!type || !dir) return undefined;
  return { path: join(dir, name), type };
}

// The express application for everything off the hot path: /model/info, /metrics, /openapi.json, /docs,
// JSON 404/405 and the JSON error handler (express's HTML defaults are never reached). express itself is imported
// by createApp (after the server is ready), so it costs nothing on the start path. This module and openapi.ts are
// imported statically: a dynamic import() of our own modules makes esbuild wrap them and everything they import
// (zod included) in lazy-init closures, which V8 then parses twice — measurably slower start-up of the bundle.
import type { Express, NextFunction, Request, Response } from 'express';
import { docsAssetPath, docsHtml, findDocsAssetsDir } from './docs-page.js';
import { MethodNotAllowedError, RouteNotFoundError, toHttpError } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';

export interface AppContext {
  metrics: ServerMetrics;
  /** The /model/info body; throws NotReadyError while no model is loaded. */
  modelInfoJson(): string;
  /** Name and version for the OpenAPI document's info block (undefined before load). */
  modelIdentity(): { modelName?: string; modelVersion?: string };
  /** Logs an error the server caused (500), with the request id (the x-request-id response header). */
  logInternalError(err: unknown, req: Request, res: Response): void;
}

const sendJson = (res: Response, status: number, body: string) => res.status(status).type('application/json').send(body);

export async function createApp(ctx: AppContext): Promise<Express> {
  const { default: express } = await import('express');
  const docsAssetsDir = findDocsAssetsDir();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const allow = (path: string, methods: string) =>
    app.all(path, (req, _res, next) => next(new MethodNotAllowedError(req.method, path, methods)));

  app.get('/model/info', (_req, res) => {
    sendJson(res, 200, ctx.modelInfoJson());
  });
  allow('/model/info', 'GET');

  app.get('/metrics', async (_req, res, next) => {
    try {
      const text = await ctx.metrics.registry.metrics();
      res.status(200).type(ctx.metrics.registry.contentType).send(text);
    } catch (err) {
      next(err);
    }
  });
  allow('/metrics', 'GET');

  let openapi: string | undefined;
  let openapiVersion: string | undefined;
  app.get('/openapi.json', (_req, res) => {
    const identity = ctx.modelIdentity();
    if (openapi === undefined || openapiVersion !== identity.modelVersion) {
      openapi = JSON.stringify(buildOpenApiDocument(identity));
      openapiVersion = identity.modelVersion;
    }
    sendJson(res, 200, openapi);
  });
  allow('/openapi.json', 'GET');

  app.get('/docs', (_req, res) => {
    const id = ctx.modelIdentity();
    res.status(200).type('text/html; charset=utf-8').send(docsHtml(`gym-sentiment-guard model server${id.modelVersion ? ` — ${id.modelName}@${id.modelVersion}` : ''}`));
  });
  allow('/docs', 'GET');
  app.get('/docs/:asset', (req, res, next) => {
    const asset = docsAssetPath(docsAssetsDir, String(req.params.asset));
    if (!asset) return next(new RouteNotFoundError(req.method, req.path));
    res.sendFile(asset.path, { headers: { 'content-type': asset.type }, maxAge: '1h' }, (err) => {
      if (err && !res.headersSent) next(new RouteNotFoundError(req.method, req.path));
    });
  });

  app.use((req, _res, next) => next(new RouteNotFoundError(req.method, req.path)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const mapped = toHttpError(err);
    if (mapped.internal) ctx.logInternalError(err, req, res);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.set(mapped.headers);
    sendJson(res, mapped.status, mapped.body);
  });
  return app;
}


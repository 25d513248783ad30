// The admin HTTP API under /admin: the same RouterControl operations the rollout controller calls in-process,
// for remote callers. Writes honour `If-Match: <generation>` (412 when stale); every answer is the state view.
import express, { type Request, type Response } from 'express';
import { Color } from '../infra/runtime.js';
import type { ChangeOptions, RouterControl } from './control.js';
import { adminAuth } from './auth.js';
import { BadRequestError, NotFoundError } from './errors.js';
import type { RouterStateView } from './state.js';
import type { Upstream, Weights } from './state.js';

export function createAdminApi(control: RouterControl, opts: { adminToken: string | undefined; bodyLimitBytes?: number }): express.Router {
  const admin = express.Router();
  admin.use(adminAuth(opts.adminToken));
  admin.use(express.json({ limit: opts.bodyLimitBytes ?? 64 * 1024 }));

  const reply = (res: Response, view: RouterStateView) => {
    res.setHeader('etag', `"${view.generation}"`);
    res.json(view);
  };

  admin.get('/state', (_req, res) => reply(res, control.view()));

  admin.put('/weights', async (req, res) => {
    reply(res, await control.setWeights(objectBody(req) as Weights, changeOptions(req)));
  });

  admin.post('/switch', async (req, res) => {
    reply(res, await control.switch(changeOptions(req)));
  });

  admin.put('/upstreams/:color', async (req, res) => {
    reply(res, await control.setUpstream(colorParam(req), objectBody(req) as Upstream, changeOptions(req)));
  });

  admin.delete('/upstreams/:color', async (req, res) => {
    reply(res, await control.setUpstream(colorParam(req), null, changeOptions(req)));
  });

  return admin;
}

function colorParam(req: Request): Color {
  const parsed = Color.safeParse(req.params.color);
  if (!parsed.success) throw new NotFoundError(`unknown color "${String(req.params.color)}" (blue or green)`);
  return parsed.data;
}

function objectBody(req: Request): unknown {
  if (!req.is('application/json')) throw new BadRequestError('body: must be JSON (Content-Type: application/json)');
  return req.body;
}

/** `If-Match: 7`, `"7"` or `W/"7"`; `*` (or no header) matches any generation. */
function changeOptions(req: Request): ChangeOptions {
  const opts: ChangeOptions = { actor: 'admin-api' };
  const header = req.headers['if-match'];
  if (header === undefined || header.trim() === '*') return opts;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header);
  if (!m) throw new BadRequestError(`If-Match: must be a generation number, got "${header.slice(0, 40)}"`);
  opts.expectGeneration = Number(m[1]);
  return opts;
}

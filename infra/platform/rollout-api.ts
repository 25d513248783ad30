// The rollout part of the admin API (mounted on the router's /admin, so it shares its bearer-token auth):
// submit a rollout, follow its events (long-poll), roll back, read the current rollout and the history.
import express, { type Request, type Response } from 'express';
import type { z } from 'zod';
import { GsgError } from '../../lib/errors.js';
import { formatZodError } from '../../lib/zod-errors.js';
import { RolloutRefusedError, type RolloutController } from '../rollout/controller.js';
import { RollbackRequest, RolloutSpec } from '../rollout/spec.js';

const MAX_WAIT_MS = 30_000;

class ApiError extends GsgError {
  constructor(readonly status: number, message: string) {
    super(message, { code: 'rollout_api' });
  }
}

function body<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  if (!req.is('application/json')) throw new ApiError(415, 'body: must be JSON (Content-Type: application/json)');
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw new ApiError(422, formatZodError(parsed.error));
  return parsed.data;
}

/** The one place rollout errors become HTTP statuses. */
function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (err instanceof RolloutRefusedError) return err.status;
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

const handle = (fn: (req: Request, res: Response) => Promise<unknown>) => async (req: Request, res: Response) => {
  try {
    const out = await fn(req, res);
    if (!res.headersSent) res.json(out);
  } catch (err) {
    const status = statusOf(err);
    res.status(status).json({ detail: status === 500 ? `internal error: ${(err as Error).message}` : (err as Error).message, ...(err instanceof RolloutRefusedError ? { refused: true } : {}) });
  }
};

export function mountRolloutApi(admin: express.Router, controller: RolloutController, opts: { defaultActor: string }): void {
  admin.post(
    '/rollouts',
    handle(async (req, res) => {
      const spec = body(RolloutSpec, req);
      const r = await controller.submit({ ...spec, actor: spec.actor ?? opts.defaultActor });
      res.status(202).json(r);
    }),
  );
  admin.get(
    '/rollouts/current',
    handle(async () => {
      const r = controller.current();
      if (!r) throw new ApiError(404, 'no rollout has run on this platform yet');
      return { ...r, running: controller.busy() };
    }),
  );
  admin.get(
    '/rollouts/:id/events',
    handle(async (req) => {
      const after = Number(req.query.after ?? 0);
      const wait = Math.min(MAX_WAIT_MS, Math.max(0, Number(req.query.wait_ms ?? 0)));
      if (!Number.isInteger(after) || after < 0) throw new ApiError(422, 'after: must be a non-negative integer');
      if (!Number.isFinite(wait)) throw new ApiError(422, 'wait_ms: must be a number');
      const out = await controller.events(String(req.params.id), after, wait);
      if (!out) throw new ApiError(404, `rollout ${String(req.params.id)} is not the current rollout`);
      const { events, ...rollout } = out.rollout;
      return { rollout: { ...rollout, running: controller.busy() }, events: out.events };
    }),
  );
  admin.post(
    '/rollback',
    handle(async (req) => {
      const r = body(RollbackRequest, req);
      return controller.rollback({ ...r, actor: r.actor ?? opts.defaultActor });
    }),
  );
  admin.get('/history', handle(async () => ({ history: await controller.history() })));
}

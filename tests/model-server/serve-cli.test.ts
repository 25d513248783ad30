// `gsg serve`: resolves --model, applies --port/--host over the environment, serves until SIGTERM, exits 0;
// bad flags stop it with one line naming the flag.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../lib/exit-codes.js';
import { projectRoot } from '../../lib/paths.js';
import { testModelDir } from '../helpers/models.js';
import { body, freePort, postJson, spawnServer } from './helpers.js';

const GSG = join(projectRoot(), 'bin', 'gsg.mjs');

describe('gsg serve', () => {
  it('serves a model directory on --port/--host until SIGTERM, then exits 0', async () => {
    const port = await freePort();
    const dir = await testModelDir();
    // PORT in the environment is overridden by the flag.
    const proc = await spawnServer({ PORT: String(await freePort()), GSG_MODEL: '' }, [GSG, 'serve', '--model', dir, '--port', String(port), '--host', '127.0.0.1']);
    try {
      const ready = await proc.waitForLog((l) => l.event === 'serving.ready');
      const start = proc.lines.find((l) => l.event === 'serving.start')!;
      expect(start.url).toBe(`http://127.0.0.1:${port}`);
      const r = await postJson(`http://127.0.0.1:${port}/predict`, { texts: ['muy buen gimnasio'] });
      expect((await body(r))[0].model_version).toBe(ready.model_version);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    } finally {
      await proc.kill();
    }
  });

  it.each([
    [['--model', '/nonexistent/model-dir'], /^gsg serve: .*\/nonexistent\/model-dir/],
    [['--port', 'http'], /^gsg serve: --port: must be a port number/],
    [['--port', '99999'], /^gsg serve: --port: must be 0\.\.65535/],
    [[], /^gsg serve: --model: required/],
  ])('%o exits 2 with one line naming the flag', async (args, message) => {
    const dir = await testModelDir();
    const withModel = args.includes('--model') || args.length === 0 ? args : ['--model', dir, ...args];
    const proc = await spawnServer({ GSG_MODEL: '' }, [GSG, 'serve', ...withModel]);
    try {
      expect(await proc.exited).toBe(ExitCode.BadInput);
      expect(proc.stderr().trim()).toMatch(message);
      expect(proc.stderr().trim().split('\n')).toHaveLength(1);
    } finally {
      await proc.kill();
    }
  });

  it('a model that fails to load exits non-zero naming the file', async () => {
    const proc = await spawnServer({ GSG_MODEL: '' }, [GSG, 'serve', '--model', join(projectRoot(), 'docs')]);
    try {
      expect(await proc.exited).toBe(ExitCode.BadInput);
      expect(proc.stderr().trim()).toMatch(/^gsg serve: .*docs\/metadata\.json: missing or unreadable$/);
    } finally {
      await proc.kill();
    }
  });
});

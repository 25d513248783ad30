// `gsg serve --model <dir | registry ref> [--port] [--host]`: resolves the model to a verified local directory,
// then runs the same server as the model-server process entry, in this process, until SIGTERM/SIGINT.
import { z } from 'zod';
import { BadInputError } from '../../../lib/errors.js';
import { resolveModelDir } from '../../../registry/resolve-model.js';
import { loadServerConfig, serve } from '../../../services/model-server/src/main.js';
import { parseOptions } from '../options.js';

const ServeOptions = z.object({
  model: z.string().min(1).optional(),
  port: z.coerce.number({ error: 'must be a port number' }).int('must be an integer').min(0, 'must be 0..65535').max(65_535, 'must be 0..65535').optional(),
  host: z.string().min(1).optional(),
});

export async function run(opts: Record<string, unknown>): Promise<number> {
  const o = parseOptions(ServeOptions, opts);
  const ref = o.model ?? process.env.GSG_MODEL;
  if (!ref) throw new BadInputError('--model: required (a model directory or a registry ref such as sentiment-logreg:production; or set GSG_MODEL)');
  const resolved = await resolveModelDir(ref);
  const config = loadServerConfig(process.env, { GSG_MODEL: resolved.dir, PORT: o.port?.toString(), HOST: o.host });
  return serve(config); // a load failure throws: runCommand prints it and exits with its code
}

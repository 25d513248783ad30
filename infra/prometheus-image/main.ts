// `npm run prometheus-image [-- --force]`: builds gsg-prometheus:<version> (+ :latest) for the compose stack.
// `npm run prometheus:config -- [--platform 127.0.0.1:8080] [--targets-dir DIR] [--out FILE]`: writes the process-mode
// Prometheus config for `gsg up` on this machine (stdout by default); run it with
// `prometheus --config.file=FILE --storage.tsdb.path=DIR`.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { errorMessage, GsgError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { parseOptions } from '../cli/options.js';
import { renderProcessConfig } from './config.js';
import { HostPort, targetsDir } from './file-sd.js';
import { ensurePrometheusImage } from './image.js';

async function image(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { force: { type: 'boolean', default: false } } });
  const img = await ensurePrometheusImage({ force: values.force, onLine: (l) => console.log(l) });
  console.log(`${img.tags.join(', ')}  ${img.id.slice(7, 19)}  ${(img.sizeBytes / 1e6).toFixed(1)} MB  ${img.built ? `built in ${img.seconds.toFixed(1)}s` : 'up to date'}`);
}

const ConfigFlags = z.object({
  platform: z.array(HostPort).default(['127.0.0.1:8080']),
  targetsDir: z.string().optional(),
  out: z.string().optional(),
});

async function config(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { platform: { type: 'string', multiple: true }, 'targets-dir': { type: 'string' }, out: { type: 'string' } },
  });
  const flags = parseOptions(ConfigFlags, { platform: values.platform, targetsDir: values['targets-dir'], out: values.out });
  const yaml = renderProcessConfig({ platformTargets: flags.platform, targetsDir: resolve(flags.targetsDir ?? targetsDir()) });
  if (flags.out) await writeFile(flags.out, yaml);
  else process.stdout.write(yaml);
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'image') await image(rest);
  else if (command === 'config') await config(rest);
  else throw new GsgError(`unknown command "${command ?? ''}" (expected image or config)`, { exitCode: ExitCode.BadInput });
} catch (err) {
  console.error(`prometheus-${command ?? 'image'}: ${errorMessage(err)}`);
  process.exitCode = err instanceof GsgError ? err.exitCode : (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? ExitCode.BadInput : ExitCode.Error;
}

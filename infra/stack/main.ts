// `npm run stack` (up), `npm run stack:down` (down) and `npm run stack:push -- <version dir>` (push): the
// docker-compose stack from this repository. Progress on stderr, the summary (URLs, token) on stdout.
// Exit codes as the gsg CLI: 0 ok, 1 error, 2 bad input (a flag, the .env file, the version directory).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BadInputError, errorMessage, GsgError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { parseOptions } from '../cli/options.js';
import { pushToStack, stackDown, stackUp, type StackInfo } from './stack.js';

const USAGE = `usage: node dist/infra/stack/main.js up [--no-grafana] | down | push <version dir>
environment: GSG_STACK_NAME (default gsg-stack), GSG_ROUTER_PORT / GSG_PROMETHEUS_PORT / GSG_GRAFANA_PORT (8080 / 9090 / 3000;
empty = a random free port), GSG_STACK_HOST_IP (127.0.0.1), GSG_ADMIN_TOKEN, GRAFANA_ADMIN_PASSWORD, GSG_GRAFANA_IMAGE,
GSG_BASE_IMAGE / GSG_RUNTIME_BASE_IMAGE, GSG_COMPOSE (e.g. "docker-compose"), GSG_STACK_ENV_FILE (default .env)`;

const Args = z.discriminatedUnion('command', [
  z.object({ command: z.literal('up'), grafana: z.boolean().optional() }),
  z.object({ command: z.literal('down') }),
  z.object({ command: z.literal('push'), dir: z.string({ error: 'push needs a model version directory' }).min(1) }),
]);

function summary(info: StackInfo): string {
  const lines = [
    '',
    `stack ${info.name} is up in ${info.seconds} s (network ${info.network})`,
    `  router        ${info.routerUrl}        POST /predict {"texts": ["..."]}, /ready, /metrics`,
    `  admin token   ${info.adminToken}        (in .env as GSG_ADMIN_TOKEN)`,
    `  Prometheus    ${info.prometheusUrl}`,
    info.grafanaUrl
      ? `  Grafana       ${info.grafanaUrl}        user admin, password ${info.grafanaPassword} (in .env as GRAFANA_ADMIN_PASSWORD)`
      : `  Grafana       not started: ${info.grafanaSkipped}`,
    '',
    'a new version:   npm run stack:push -- models/sentiment-logreg/<version>',
    `then:            GSG_ADMIN_TOKEN=${info.adminToken} npx gsg promote sentiment-logreg@<version> --router ${info.routerUrl}`,
    'stop it:         npm run stack:down',
    '',
  ];
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { 'no-grafana': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new BadInputError(errorMessage(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.Ok;
  }
  const args = parseOptions(Args, { command: positionals[0], dir: positionals[1], grafana: values['no-grafana'] ? false : undefined });
  const onLine = (line: string) => process.stderr.write(`${line}\n`);
  switch (args.command) {
    case 'up':
      process.stdout.write(summary(await stackUp({ grafana: args.grafana, onLine })));
      return ExitCode.Ok;
    case 'down': {
      const r = await stackDown({ onLine });
      process.stdout.write(`stack ${r.name} is down: containers, volumes and network removed${r.removedManaged.length ? ` (and ${r.removedManaged.join(', ')})` : ''}\n`);
      return ExitCode.Ok;
    }
    case 'push': {
      const r = await pushToStack(args.dir, { onLine });
      process.stdout.write(`${r.ref} ${r.pushed ? 'pushed to' : 'was already in'} the stack's registry; image ${r.record.image} (${(r.record.sizeBytes / 1e6).toFixed(1)} MB)\n`);
      process.stdout.write(`promote it: npx gsg promote ${r.ref}   (GSG_ADMIN_TOKEN from .env; --router if not on :8080)\n`);
      return ExitCode.Ok;
    }
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`stack: ${errorMessage(err)}\n`);
  if (err instanceof BadInputError) process.stderr.write(`${USAGE}\n`);
  process.exitCode = err instanceof GsgError ? err.exitCode : ExitCode.Error;
}

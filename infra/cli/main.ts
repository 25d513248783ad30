// The `gsg` CLI: one subcommand per job. Only flag definitions live here; each action lazily imports its
// command module, so `gsg serve` never loads Docker or GCS code and the CLI starts fast.
import { Command, Option } from 'commander';
import { EXIT_CODE_HELP } from '../../lib/exit-codes.js';
import { runCommand } from './run-command.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const program = new Command('gsg')
  .description('gym-sentiment-guard: train, version, serve and roll out the gym-review sentiment model')
  .showHelpAfterError()
  .addHelpText('after', `\n${EXIT_CODE_HELP}`);

program
  .command('train')
  .description('train the model on a data directory and write a versioned ONNX artifact')
  .option('--data <dir>', 'directory with train.csv, val.csv and the stopword lists', '../shared/data/gym-reviews')
  .option('--out <dir>', 'output directory; the version directory is created inside it', 'models/sentiment-logreg')
  .option('--model-version <version>', 'version string (a valid Docker tag); default <date>.<NNN>')
  .option('--quiet', 'no progress output')
  .action((opts) => runCommand('train', () => import('./commands/train.js'), opts));

program
  .command('evaluate')
  .description('score a labelled CSV through ONNX Runtime exactly as the server does')
  .requiredOption('--model <dir>', 'model version directory')
  .requiredOption('--data <csv>', 'labelled CSV with comment and sentiment columns')
  .option('--json', 'print one JSON object')
  .action((opts) => runCommand('evaluate', () => import('./commands/evaluate.js'), opts));

program
  .command('serve')
  .description('serve one model version over HTTP (environment: GSG_MODEL, PORT, HOST, LOG_LEVEL, ...)')
  .option('--model <ref>', 'model directory or registry ref (name@version, name:alias)')
  .option('--port <port>', 'port to listen on (env PORT, default 8080)')
  .option('--host <host>', 'address to bind (env HOST, default 0.0.0.0)')
  .action((opts) => runCommand('serve', () => import('./commands/serve.js'), opts));

const registryHelp = `\nEnvironment: GSG_REGISTRY=file:///path | gs://bucket/prefix (default file://$GSG_HOME/registry), GSG_GCS_ENDPOINT (another GCS JSON API endpoint, unauthenticated).\n\n${EXIT_CODE_HELP}`;
const registry = program
  .command('registry')
  .description('model registry: versions, aliases, integrity (GSG_REGISTRY=file:///path | gs://bucket/prefix)')
  .addHelpText('after', registryHelp);
registry
  .command('push <dir>')
  .addHelpText('after', registryHelp)
  .description('push a version directory; prints the ref it created')
  .option('--name <name>', 'model name (default: from metadata)')
  .action((dir, opts) => runCommand('registry push', () => import('./commands/registry.js'), { ...opts, action: 'push', dir }));
registry
  .command('list [name]')
  .addHelpText('after', registryHelp)
  .description('list versions: version, created, val F1_neg, size, sha256, aliases')
  .option('--json', 'machine-readable output')
  .action((name, opts) => runCommand('registry list', () => import('./commands/registry.js'), { ...opts, action: 'list', name }));
registry
  .command('show <ref>')
  .addHelpText('after', registryHelp)
  .description('show the resolved version, manifest and metadata')
  .option('--json', 'machine-readable output')
  .action((ref, opts) => runCommand('registry show', () => import('./commands/registry.js'), { ...opts, action: 'show', ref }));
registry
  .command('pull <ref>')
  .addHelpText('after', registryHelp)
  .description('download and verify a version into a directory')
  .requiredOption('--to <dir>', 'destination directory (must not exist)')
  .action((ref, opts) => runCommand('registry pull', () => import('./commands/registry.js'), { ...opts, action: 'pull', ref }));
const alias = registry.command('alias').description('move and inspect aliases (production, candidate, ...)').addHelpText('after', registryHelp);
alias
  .command('set <name> <alias> <version>')
  .addHelpText('after', registryHelp)
  .description('point an alias at a version (compare-and-swap)')
  .option('--expect <version>', 'fail unless the alias currently points here ("none" for unset)')
  .option('--reason <text>', 'why (recorded in history)')
  .option('--actor <who>', 'who (default $USER)')
  .action((name, aliasName, version, opts) => runCommand('registry alias set', () => import('./commands/registry.js'), { ...opts, action: 'alias-set', name, alias: aliasName, version }));
alias
  .command('history <name> [alias]')
  .addHelpText('after', registryHelp)
  .description('every move of an alias: from, to, when, who, why')
  .option('--json', 'machine-readable output')
  .action((name, aliasName, opts) => runCommand('registry alias history', () => import('./commands/registry.js'), { ...opts, action: 'alias-history', name, alias: aliasName }));

program
  .command('build <ref>')
  .description('build the model-server image gsg-model-server:<name>-<version> for a version')
  .option('--base-image <image>', 'build-stage base image (env GSG_BASE_IMAGE, default node:20-bookworm-slim; gsg-base/node:20-bookworm-slim = offline, built on demand)')
  .option('--runtime-base-image <image>', 'runtime-stage base image (env GSG_RUNTIME_BASE_IMAGE; default gsg-base/node:20-runtime with the offline base, else the build-stage base)')
  .option('--no-cache', 'build without the layer cache')
  .option('--json', 'print the build record as JSON')
  .action((ref, opts) => runCommand('build', () => import('./commands/build.js'), { ...opts, ref }));

program
  .command('router')
  .description('run the blue/green router alone (no runtime, no controller)')
  .option('--port <port>', 'port (default 8080)')
  .option('--host <host>', 'address (default 0.0.0.0)')
  .option('--state <file>', 'state file (default $GSG_HOME/platform/router.json)')
  .option('--blue <url>', 'blue upstream URL')
  .option('--blue-version <version>', 'blue version label')
  .option('--green <url>', 'green upstream URL')
  .option('--green-version <version>', 'green version label')
  .action((opts) => runCommand('router', () => import('./commands/router.js'), opts));

program
  .command('up')
  .description('run the platform: registry, router, production version as blue, rollout controller')
  .option('--port <port>', 'router port (default 8080)')
  .option('--host <host>', 'router address (default 0.0.0.0)')
  .addOption(new Option('--runtime <kind>', 'how model servers run').choices(['process', 'docker']))
  .action((opts) => runCommand('up', () => import('./commands/up.js'), opts));

program
  .command('promote <ref>')
  .description('roll a version out progressively through the platform; follows it live (Ctrl-C detaches)')
  .addOption(new Option('--strategy <strategy>', 'rollout strategy').choices(['canary', 'blue-green']).default('canary'))
  .option('--steps <list>', 'canary weights in percent', '10,25,50,100')
  .option('--interval <duration>', 'analysis window per step', '30s')
  .option('--min-requests <n>', 'requests needed in a window for a verdict', '100')
  .option('--max-error-rate <ratio>', 'largest acceptable 5xx ratio', '0.01')
  .option('--max-p99-ms <ms>', 'largest acceptable p99 latency', '50')
  .option('--deadline <duration>', 'give up (and roll back) when a step stays inconclusive this long', '10m')
  .option('--golden <csv>', 'labelled CSV scored through both versions before any traffic')
  .option('--max-f1-drop <delta>', 'largest acceptable F1_neg drop on --golden', '0.02')
  .option('--scale-down-delay <duration>', 'keep the old color running this long for instant rollback', '10m')
  .option('--env <KEY=VALUE>', 'environment for the candidate (repeatable)', collect, [])
  .option('--router <url>', 'platform URL', 'http://127.0.0.1:8080')
  .addOption(new Option('--runtime <kind>', 'runtime for the candidate (default: the platform\'s)').choices(['process', 'docker']))
  .option('--reason <text>', 'why (recorded in history)')
  .option('--actor <who>', 'who (default $USER)')
  .option('--detach', 'submit and return without following')
  .action((ref, opts) => runCommand('promote', () => import('./commands/promote.js'), { ...opts, ref }));

program
  .command('rollback')
  .description('return traffic and the production alias to the previous version')
  .option('--reason <text>', 'why (recorded in history)')
  .option('--actor <who>', 'who (default $USER)')
  .option('--router <url>', 'platform URL', 'http://127.0.0.1:8080')
  .action((opts) => runCommand('rollback', () => import('./commands/rollback.js'), opts));

program
  .command('status')
  .description('colors, weights, versions and the rollout in progress')
  .option('--json', 'machine-readable output')
  .option('--router <url>', 'platform URL', 'http://127.0.0.1:8080')
  .action((opts) => runCommand('status', () => import('./commands/status.js'), opts));

program
  .command('history')
  .description('rollouts and rollbacks: who, when, why, result')
  .option('--json', 'machine-readable output')
  .option('--router <url>', 'platform URL', 'http://127.0.0.1:8080')
  .action((opts) => runCommand('history', () => import('./commands/history.js'), opts));

await program.parseAsync(process.argv);

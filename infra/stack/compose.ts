// Runs docker-compose for the stack: `docker compose` (v2 plugin) when the Docker CLI has it, else Debian's
// `docker-compose` 1.29 (GSG_COMPOSE overrides, e.g. GSG_COMPOSE="docker-compose"), always with the repository's
// docker-compose.yaml, an explicit project name and env file; and finds the stack's containers by compose labels.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GsgError } from '../../lib/errors.js';
import { projectRoot } from '../../lib/paths.js';
import type { Docker } from '../images/docker.js';

export const COMPOSE_FILE = 'docker-compose.yaml';

/** docker-compose failed or is not installed. */
export class ComposeError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(message, { code: 'compose', context, cause });
  }
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; its output lines also go to `onLine` as they come. */
export function runCommand(cmd: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const feed = (chunk: Buffer, into: 'stdout' | 'stderr') => {
      const text = chunk.toString();
      if (into === 'stdout') stdout += text;
      else stderr += text;
      pending += text;
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) opts.onLine?.(l);
    };
    child.stdout.on('data', (c: Buffer) => feed(c, 'stdout'));
    child.stderr.on('data', (c: Buffer) => feed(c, 'stderr'));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (pending.trim()) opts.onLine?.(pending);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

let detected: Promise<string[]> | undefined;

/** The compose command line prefix: GSG_COMPOSE, else `docker compose` when it answers, else `docker-compose`. */
export function composeCommand(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (env.GSG_COMPOSE) return Promise.resolve(env.GSG_COMPOSE.split(/\s+/).filter(Boolean));
  detected ??= (async () => {
    for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
      const r = await runCommand([...cmd, 'version'], { timeoutMs: 20_000 }).catch(() => undefined);
      if (r?.code === 0) return cmd;
    }
    throw new ComposeError('neither `docker compose` (v2) nor `docker-compose` is installed (apt-get install docker-compose)');
  })();
  detected.catch(() => (detected = undefined));
  return detected;
}

export interface ComposeProject {
  /** Compose project name (= GSG_STACK_NAME). */
  name: string;
  /** The env file compose substitutes variables from. */
  envFile: string;
  /** Environment of the compose process (wins over the env file, as in compose itself). */
  env: NodeJS.ProcessEnv;
  /** Directory holding docker-compose.yaml (default: the project root). */
  dir?: string;
}

/** Runs `compose -f docker-compose.yaml -p <name> --env-file <file> [--profile ...] <args>`; throws on failure. */
export async function compose(project: ComposeProject, args: string[], opts: { profiles?: string[]; onLine?: (line: string) => void; allowFailure?: boolean } = {}): Promise<CommandResult> {
  const dir = project.dir ?? projectRoot();
  const cmd = [
    ...(await composeCommand(project.env)),
    '-f',
    join(dir, COMPOSE_FILE),
    '--project-directory',
    dir,
    '-p',
    project.name,
    '--env-file',
    project.envFile,
    ...(opts.profiles ?? []).flatMap((p) => ['--profile', p]),
    ...args,
  ];
  const r = await runCommand(cmd, { env: project.env, cwd: dir, onLine: opts.onLine });
  if (r.code !== 0 && !opts.allowFailure) {
    throw new ComposeError(`${cmd.slice(0, cmd.indexOf('-f')).join(' ')} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`, { args });
  }
  return r;
}

/** The default a compose variable has in docker-compose.yaml (`${NAME:-default}` or `${NAME-default}`). */
export function composeDefault(name: string, dir = projectRoot()): string {
  const text = readFileSync(join(dir, COMPOSE_FILE), 'utf8');
  const m = new RegExp(`\\$\\{${name}:?-([^}]*)\\}`).exec(text);
  if (!m) throw new ComposeError(`${COMPOSE_FILE} has no default for ${name}`);
  return m[1]!;
}

/** Labels both compose versions put on a service's containers. */
export const composeLabels = (project: string, service?: string): string[] => [`com.docker.compose.project=${project}`, ...(service ? [`com.docker.compose.service=${service}`] : [])];

/** The running container of a service, or undefined. */
export async function serviceContainer(docker: Docker, project: string, service: string): Promise<Docker.ContainerInfo | undefined> {
  const found = await docker.listContainers({ filters: { label: composeLabels(project, service) } });
  return found[0];
}

/** `http://<host>:<port>` at which a service's container port is published on this machine. */
export async function publishedUrl(docker: Docker, project: string, service: string, port: number): Promise<string> {
  const c = await serviceContainer(docker, project, service);
  if (!c) throw new ComposeError(`service ${service} of stack ${project} is not running (docker-compose -p ${project} ps)`, { project, service });
  const binding = (await docker.getContainer(c.Id).inspect()).NetworkSettings.Ports[`${port}/tcp`]?.[0];
  if (!binding?.HostPort) throw new ComposeError(`service ${service}: port ${port} is not published`, { project, service });
  const host = !binding.HostIp || binding.HostIp === '0.0.0.0' ? '127.0.0.1' : binding.HostIp.includes(':') ? `[${binding.HostIp}]` : binding.HostIp;
  return `http://${host}:${binding.HostPort}`;
}

// The stack's .env (read by docker-compose for variable substitution): parsed and rewritten line by line, so comments
// and variables someone added by hand survive `npm run stack`; values validated by one zod schema.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { BadInputError } from '../../lib/errors.js';
import { writeFileAtomic } from '../../lib/json-file.js';

const Port = z.string().regex(/^(\d{1,5})?$/, 'expected a port number (empty: a random free port)');
/** Safe in a .env read by both docker-compose 1.29 and v2 (no quotes, spaces, `$` or `#`). */
const Plain = z.string().regex(/^[A-Za-z0-9._:/@+=-]*$/, 'may only contain letters, digits and . _ : / @ + = -');

/** The variables docker-compose.yaml reads (all optional here: defaults live in the compose file). */
export const StackEnv = z.object({
  /** Compose project, network and owner label of the containers the platform starts. */
  GSG_STACK_NAME: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected lowercase letters, digits, "_" or "-" (a compose project name)').optional(),
  COMPOSE_PROJECT_NAME: z.string().optional(),
  GSG_ADMIN_TOKEN: Plain.min(16, 'must be at least 16 characters').optional(),
  GRAFANA_ADMIN_PASSWORD: Plain.min(12, 'must be at least 12 characters').optional(),
  GSG_DOCKER_GID: z.string().regex(/^\d+$/, 'expected a numeric group id').optional(),
  GSG_PLATFORM_IMAGE: Plain.optional(),
  GSG_BLUE_IMAGE: Plain.optional(),
  GSG_PROMETHEUS_IMAGE: Plain.optional(),
  GSG_GRAFANA_IMAGE: Plain.optional(),
  GSG_STACK_HOST_IP: z.string().regex(/^[0-9a-fA-F.:]+$/, 'expected an IP address').optional(),
  GSG_ROUTER_PORT: Port.optional(),
  GSG_PROMETHEUS_PORT: Port.optional(),
  GSG_GRAFANA_PORT: Port.optional(),
});
export type StackEnv = z.infer<typeof StackEnv>;

export interface EnvFile {
  path: string;
  /** Every line as read (comments and unknown variables included). */
  lines: string[];
  values: Record<string, string>;
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

function unquote(v: string): string {
  return v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0] ? v.slice(1, -1) : v;
}

/** Reads `path` (missing = empty) and validates the stack's variables, naming the file, line and variable. */
export async function readEnvFile(path: string): Promise<EnvFile> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const values: Record<string, string> = {};
  lines.forEach((line, i) => {
    if (/^\s*(#|$)/.test(line)) return;
    const m = LINE.exec(line);
    if (!m) throw new BadInputError(`${path}:${i + 1}: not a KEY=VALUE line`, { file: path, line: i + 1 });
    values[m[1]!] = unquote(m[2]!);
  });
  checkStackEnv(values, path);
  return { path, lines, values };
}

/** Validates the stack's variables in `values` (others are left alone). */
export function checkStackEnv(values: Record<string, string | undefined>, where: string): StackEnv {
  const picked = Object.fromEntries(Object.keys(StackEnv.shape).filter((k) => values[k] !== undefined).map((k) => [k, values[k]]));
  const parsed = StackEnv.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BadInputError(`${where}: ${String(issue.path[0])}: ${issue.message}`, { file: where });
  }
  return parsed.data;
}

/** Sets `updates` in the file (replacing a variable's line in place, appending new ones) and writes it atomically. */
export async function updateEnvFile(file: EnvFile, updates: Record<string, string>, header = ''): Promise<EnvFile> {
  checkStackEnv(updates, file.path);
  const lines = [...file.lines];
  if (lines.length === 0 && header) lines.push(...header.split('\n'));
  for (const [key, value] of Object.entries(updates)) {
    const i = lines.findIndex((l) => LINE.exec(l)?.[1] === key);
    if (i >= 0) lines[i] = `${key}=${value}`;
    else lines.push(`${key}=${value}`);
  }
  // Mode 600 (writeFileAtomic's default): it holds the admin token and the Grafana password.
  await writeFileAtomic(file.path, `${lines.join('\n')}\n`);
  return { path: file.path, lines, values: { ...file.values, ...updates } };
}

// The stack's .env: read line by line (comments, hand-added variables and `export` kept), the stack's variables
// validated with the file, line and variable named, updates written in place with mode 600.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BadInputError } from '../../lib/errors.js';
import { readEnvFile, updateEnvFile } from '../../infra/stack/env-file.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gsg-stack-env-'));
  path = join(dir, '.env');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it('reads a missing file as empty', async () => {
  expect(await readEnvFile(path)).toEqual({ path, lines: [], values: {} });
});

it('reads KEY=VALUE lines, skipping comments and blank lines, unquoting values and accepting `export`', async () => {
  await writeFile(path, '# mine\n\nGSG_ROUTER_PORT=18080\nexport MY_VAR="a b"\nGSG_STACK_NAME=\'demo\'\n');
  expect((await readEnvFile(path)).values).toEqual({ GSG_ROUTER_PORT: '18080', MY_VAR: 'a b', GSG_STACK_NAME: 'demo' });
});

it('names the file and line of a line that is not KEY=VALUE', async () => {
  await writeFile(path, 'GSG_ROUTER_PORT=18080\nnot a variable\n');
  await expect(readEnvFile(path)).rejects.toThrow(BadInputError);
  await expect(readEnvFile(path)).rejects.toThrow(`${path}:2: not a KEY=VALUE line`);
});

it('names the variable whose value is invalid', async () => {
  await writeFile(path, 'GSG_ROUTER_PORT=eighty\n');
  await expect(readEnvFile(path)).rejects.toThrow(`${path}: GSG_ROUTER_PORT: expected a port number (empty: a random free port)`);
  await writeFile(path, 'GSG_ADMIN_TOKEN=short\n');
  await expect(readEnvFile(path)).rejects.toThrow(`${path}: GSG_ADMIN_TOKEN: must be at least 16 characters`);
  await writeFile(path, 'GSG_STACK_NAME=My Stack\n');
  await expect(readEnvFile(path)).rejects.toThrow(/GSG_STACK_NAME: expected lowercase letters/);
});

it('accepts an empty port (a random free host port)', async () => {
  await writeFile(path, 'GSG_ROUTER_PORT=\n');
  expect((await readEnvFile(path)).values.GSG_ROUTER_PORT).toBe('');
});

it('replaces variables in place, appends new ones and keeps every other line', async () => {
  await writeFile(path, '# mine\nMY_VAR=keep\nGSG_DOCKER_GID=1\n');
  await updateEnvFile(await readEnvFile(path), { GSG_DOCKER_GID: '107', GSG_ADMIN_TOKEN: 'x'.repeat(32) }, '# header');
  expect(await readFile(path, 'utf8')).toBe(`# mine\nMY_VAR=keep\nGSG_DOCKER_GID=107\nGSG_ADMIN_TOKEN=${'x'.repeat(32)}\n`);
});

it('starts a new file with the header and writes it readable by its owner only', async () => {
  const file = await updateEnvFile(await readEnvFile(path), { GSG_STACK_NAME: 'demo' }, '# header');
  expect(await readFile(path, 'utf8')).toBe('# header\nGSG_STACK_NAME=demo\n');
  expect(file.values).toEqual({ GSG_STACK_NAME: 'demo' });
  expect((await stat(path)).mode & 0o777).toBe(0o600);
});

it('refuses to write a value compose would misread, naming it', async () => {
  await expect(updateEnvFile(await readEnvFile(path), { GRAFANA_ADMIN_PASSWORD: 'has a space and $dollar' })).rejects.toThrow(/GRAFANA_ADMIN_PASSWORD: may only contain/);
});

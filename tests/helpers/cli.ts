// The `gsg` CLI as tests run it: the compiled entry (dist/, built by the global setup) as a child process, to completion.
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths.js';
import { runCommand, type CommandResult } from '../../infra/stack/compose.js';

export const CLI = join(projectRoot(), 'dist', 'infra', 'cli', 'main.js');

/**
 * Runs `gsg <args>` to completion with this process's environment plus `env`; killed (code -1) after `timeoutMs`
 * when one is given.
 */
export function runGsg(args: string[], env: Record<string, string> = {}, opts: { timeoutMs?: number; cwd?: string } = {}): Promise<CommandResult> {
  return runCommand([process.execPath, CLI, ...args], { env: { ...process.env, ...env }, cwd: opts.cwd, timeoutMs: opts.timeoutMs });
}

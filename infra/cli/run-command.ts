// Runs one CLI command module and maps its failure to a one-line message and a documented exit code.
import { GsgError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';

export interface CommandModule {
  run(opts: Record<string, unknown>): Promise<number | void>;
}

export async function runCommand(name: string, load: () => Promise<CommandModule>, opts: Record<string, unknown>): Promise<void> {
  try {
    const mod = await load();
    const code = await mod.run(opts);
    if (typeof code === 'number' && code !== ExitCode.Ok) process.exitCode = code;
  } catch (err) {
    if (err instanceof GsgError) {
      process.stderr.write(`gsg ${name}: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`gsg ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = ExitCode.Error;
    }
  }
}

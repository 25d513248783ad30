// Turns what a user passes as --model (a directory or a registry ref) into a verified local model directory.
// (The registry issue extends this to `name@version` and `name:alias` refs; until then only directories work.)
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BadInputError } from '../lib/errors.js';

export interface ResolvedModel {
  dir: string;
  /** The ref as given, and what it resolved to. */
  ref: string;
}

export async function resolveModelDir(refOrDir: string, _env: NodeJS.ProcessEnv = process.env): Promise<ResolvedModel> {
  const dir = resolve(refOrDir);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new BadInputError(`--model: ${refOrDir} is not a model directory`, { ref: refOrDir });
  return { dir, ref: refOrDir };
}

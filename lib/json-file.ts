// Small durable JSON files (state, records): atomic writes (temp file in the same directory, fsync, rename) and
// reads validated by a zod schema, with errors naming the file and the field.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { BadInputError } from './errors.js';
import { formatZodError } from './zod-errors.js';

/** Writes `data` so that readers see the old or the new content, never a partial file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function writeJsonAtomic(path: string, value: unknown, mode = 0o600): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
}

/** The parsed file, or undefined when it does not exist; BadInputError naming the file and field when it is invalid. */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BadInputError(`${path}: unreadable (${(err as Error).message})`, { file: path });
  }
  return parseJsonText(text, schema, path);
}

/**
 * Parses a JSON text and validates it with `schema`. Failures are `${where}: not valid JSON (<parser message>)` or
 * `${where}: <field>: <problem>`, turned into an error by `toError` (default BadInputError naming the file); it also
 * gets the parser's error when the text is not JSON at all, for callers that word that case their own way.
 */
export function parseJsonText<S extends z.ZodType>(
  text: string,
  schema: S,
  where: string,
  toError: (message: string, syntaxError?: Error) => Error = (message) => new BadInputError(message, { file: where }),
): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw toError(`${where}: not valid JSON (${(err as Error).message})`, err as Error);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw toError(`${where}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

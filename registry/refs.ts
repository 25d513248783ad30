// Model refs: `name@version`, `name:alias`, or a directory path (anything with a "/" or without "@"/":").
import { BadInputError } from '../lib/errors.js';
import { formatZodError } from '../lib/zod-errors.js';
import { ModelName, VersionString } from '../models/artifact.js';
import { AliasName } from './aliases.js';

export type Ref =
  | { kind: 'version'; name: string; version: string }
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'dir'; path: string };

export function parseRef(ref: string): Ref {
  if (ref.includes('/') || !/[@:]/.test(ref)) return { kind: 'dir', path: ref };
  const m = /^([^@:]*)([@:])(.*)$/.exec(ref)!;
  const [, name, sep, rest] = m as unknown as [string, string, string, string];
  const check = (what: string, schema: typeof ModelName, value: string) => {
    const r = schema.safeParse(value);
    if (!r.success) throw new BadInputError(`ref "${ref}": ${what} ${formatZodError(r.error).replace(/^\(root\): /, '')} (refs are name@version, name:alias or a directory path)`, { ref });
  };
  check('model name', ModelName, name);
  if (sep === '@') {
    check('version', VersionString, rest);
    return { kind: 'version', name, version: rest };
  }
  check('alias', AliasName, rest);
  return { kind: 'alias', name, alias: rest };
}

export function formatRef(name: string, version: string): string {
  return `${name}@${version}`;
}

// Validates a command's CLI flags with its zod schema; a bad flag fails with BadInputError naming it.
import type { z } from 'zod';
import { BadInputError } from '../../lib/errors.js';
import { formatZodError } from '../../lib/zod-errors.js';

export function parseOptions<S extends z.ZodType>(schema: S, opts: unknown): z.infer<S> {
  const parsed = schema.safeParse(opts);
  if (!parsed.success) throw new BadInputError(formatZodError(parsed.error, 'flag'));
  return parsed.data;
}

// Turns a zod error into one line that names the failing field ("texts[3]: ...", "--port: ...").
import type { z } from 'zod';

export function formatIssuePath(path: PropertyKey[], style: 'dot' | 'flag' = 'dot'): string {
  if (style === 'flag') return path.length ? `--${String(path[0]).replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}` : '(options)';
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

export function formatZodError(err: z.ZodError, style: 'dot' | 'flag' = 'dot'): string {
  return err.issues.map((i) => `${formatIssuePath(i.path, style)}: ${i.message}`).join('; ');
}

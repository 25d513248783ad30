// `gsg registry` — not implemented yet (stub owned by the issue that builds it).
import { GsgError } from '../../../lib/errors.js';

export async function run(_opts: Record<string, unknown>): Promise<number> {
  throw new GsgError('gsg registry is not implemented yet');
}

// Compiles dist/ once before the suites run: tests spawn `gsg` child processes that run the compiled code.
import { buildDist } from '../../scripts/build.mjs';

export default async function setup(): Promise<void> {
  await buildDist();
}

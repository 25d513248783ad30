// The platform image's build context: the sources its dist/ is compiled from, without the benchmarks (the image
// never runs them; the build skips a source directory the context does not send).
import { expect, it } from 'vitest';
import { platformSources } from '../../infra/platform-image/context.js';
import { projectRoot } from '../../lib/paths.js';

it('sends the CLI, router, registry and server sources, and no benchmark', async () => {
  const sources = await platformSources(projectRoot());
  expect(sources).toEqual(expect.arrayContaining(['infra/cli/main.ts', 'router/router.ts', 'services/model-server/src/main.ts', 'lib/paths.ts']));
  expect(sources.filter((f) => f.startsWith('bench/'))).toEqual([]);
  expect(sources.filter((f) => f.endsWith('.test.ts') || f.startsWith('tests/'))).toEqual([]);
});

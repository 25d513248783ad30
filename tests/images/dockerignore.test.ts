// .dockerignore, for builds that send the repository root as the context (docker-compose, a hand-run `docker
// build`): the context keeps what services/model-server/Dockerfile copies and leaves out tests, data, .git,
// node_modules and build output. Checked with the real docker CLI, which is what applies the file.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { BASE_IMAGE_TAGS, ensureBaseImage } from '../../infra/base-image/base-image.js';
import { describeDocker } from '../helpers/docker.js';

const run = promisify(execFile);

describeDocker('.dockerignore', () => {
  const tag = `gsg-test-dockerignore:${process.pid}`;
  let files: string[];

  beforeAll(async () => {
    await ensureBaseImage('runtime');
    // A throwaway image that copies the whole context the CLI sends, then lists it.
    const dockerfile = `FROM ${BASE_IMAGE_TAGS.runtime}\nCOPY . /ctx\n`;
    await new Promise<void>((resolve, reject) => {
      const build = spawn('docker', ['build', '-q', '-t', tag, '-f', '-', '.'], { cwd: projectRoot(), env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      build.stderr.on('data', (c: Buffer) => (err += c.toString()));
      build.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker build exited ${code}: ${err}`))));
      build.stdin.end(dockerfile);
    });
    const script = "const fs = require('node:fs'); console.log(fs.readdirSync('/ctx', { recursive: true }).filter((f) => fs.statSync('/ctx/' + f).isFile()).join('\\n'))";
    const { stdout } = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'node', tag, '-e', script]);
    files = stdout.trim().split('\n');
  }, 300_000);
  afterAll(async () => {
    await run('docker', ['rmi', '-f', tag]).catch(() => {});
  });

  it('sends what the Dockerfile copies', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', '.npmrc', 'scripts/build.mjs', 'infra/images/runtime-deps.mjs', 'services/model-server/src/main.ts', 'models/artifact.ts', 'lib/errors.ts']));
    expect(files.some((f) => /^models\/sentiment-logreg\/[^/]+\/model\.onnx$/.test(f))).toBe(true);
  });

  it('leaves out tests, data, .git, node_modules, build output and the other services', () => {
    const unwanted = files.filter((f) => /^(tests|node_modules|dist|dist-image|\.git|\.ci|bench|docs|router|registry|grafana|prometheus)\//.test(f) || f.endsWith('.test.ts'));
    expect(unwanted).toEqual([]);
  });
});

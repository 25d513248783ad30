// Builds gsg-prometheus:<prometheus version> offline (Docker Hub is unreachable): this machine's Debian Prometheus
// binary, promtool (the container health check), the shared libraries `ldd` lists, the web UI assets, and the
// project's prometheus.yml and rules, packed as a root filesystem and imported with `docker import`; runs as nobody.
// Rebuilt only when the binaries, the config or the rules change.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { sharedLibraries } from '../base-image/rootfs.js';
import { connectDocker, DockerError, followProgress, imageExists, splitImageRef, type Docker } from '../images/docker.js';
import { packTar, type TarEntry } from '../images/tar.js';
import { composeConfigPath, rulesDir } from './config.js';

const run = promisify(execFile);

export const PROMETHEUS_IMAGE_REPO = 'gsg-prometheus';
/** nobody:nogroup, as in the upstream prom/prometheus image. */
export const PROMETHEUS_UID = 65534;
/** Bumped when the root filesystem layout changes, so existing images are rebuilt. */
const FORMAT_VERSION = 1;
const FINGERPRINT_LABEL = 'gsg.prometheus.fingerprint';
const WEB_ASSETS = '/usr/share/prometheus/web';

export interface PrometheusHost {
  prometheus: string;
  promtool: string;
  version: string;
  /** prometheus.yml copied to /etc/prometheus/prometheus.yml. */
  config: string;
  /** Directory whose *.yml go to /etc/prometheus/rules. */
  rules: string;
}

export interface PrometheusImage {
  tags: string[];
  id: string;
  sizeBytes: number;
  version: string;
  /** false when an image with the same fingerprint already existed. */
  built: boolean;
  seconds: number;
}

export interface PrometheusImageOptions {
  docker?: Docker;
  /** Binaries to copy (default: `prometheus` and `promtool` from PATH). */
  prometheus?: string;
  promtool?: string;
  /** Default: gsg-prometheus:<version> and gsg-prometheus:latest. */
  tags?: string[];
  force?: boolean;
  onLine?: (line: string) => void;
}

async function which(cmd: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return realpath(p);
  }
  throw new DockerError(`prometheus image: \`${cmd}\` is not installed (apt-get install prometheus)`, { cmd });
}

/** The binaries, their version ("2.42.0" from "prometheus, version 2.42.0+ds ...") and the project's config. */
export async function describePrometheusHost(opts: { prometheus?: string; promtool?: string } = {}): Promise<PrometheusHost> {
  const prometheus = await realpath(opts.prometheus ?? (await which('prometheus')));
  const promtool = await realpath(opts.promtool ?? (await which('promtool')));
  const { stdout, stderr } = await run(prometheus, ['--version']);
  const m = /version (\d+\.\d+\.\d+)/.exec(stdout + stderr);
  if (!m) throw new DockerError(`prometheus image: cannot read the version of ${prometheus}`, { output: stdout + stderr });
  return { prometheus, promtool, version: m[1]!, config: composeConfigPath(), rules: rulesDir() };
}

async function ruleFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.yml')).sort().map((f) => join(dir, f));
}

/**
 * Debian's web UI: its own files plus, from the symlinked /usr/share/javascript libraries, only the files the
 * templates load (the whole of moment-timezone alone is 200 MB). Missing libraries are skipped (the API works without).
 */
async function webAssets(): Promise<TarEntry[]> {
  if (!existsSync(WEB_ASSETS)) return [];
  const templates = join(WEB_ASSETS, 'templates');
  const referenced = new Set<string>();
  for (const f of await readdir(templates)) {
    for (const m of readFileSync(join(templates, f), 'utf8').matchAll(/static\/[\w.\/-]+/g)) referenced.add(m[0]);
  }
  const entries: TarEntry[] = [];
  const add = async (hostPath: string, viaSymlink: boolean): Promise<void> => {
    const rel = relative(WEB_ASSETS, hostPath);
    const name = join('usr/share/prometheus/web', rel);
    const st = await stat(hostPath).catch(() => undefined);
    if (!st) return; // dangling symlink
    if (st.isDirectory()) {
      entries.push({ type: 'directory', name });
      const symlinked = viaSymlink || (await lstat(hostPath)).isSymbolicLink();
      for (const e of (await readdir(hostPath)).sort()) await add(join(hostPath, e), symlinked);
    } else if (!viaSymlink || referenced.has(rel)) {
      entries.push({ type: 'file', name, source: await realpath(hostPath), mode: 0o644 });
    }
  };
  entries.push({ type: 'directory', name: 'usr/share/prometheus' });
  await add(WEB_ASSETS, false);
  return entries;
}

/** Every entry of the image's root filesystem, directories before their contents. */
export async function prometheusRootfs(host: PrometheusHost): Promise<TarEntry[]> {
  const passwd = 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n';
  const group = 'root:x:0:\nnogroup:x:65534:\n';
  const entries: TarEntry[] = [];
  for (const d of ['bin', 'etc', 'etc/prometheus', 'etc/prometheus/rules', 'usr', 'usr/share', 'dev', 'proc', 'sys', 'run']) entries.push({ type: 'directory', name: d });
  entries.push(
    { type: 'directory', name: 'tmp', mode: 0o1777 },
    // Shared with the platform through a volume (it writes targets.json there, as another user): sticky, like /tmp.
    { type: 'directory', name: 'etc/prometheus/targets', mode: 0o1777 },
    { type: 'directory', name: 'prometheus', uid: PROMETHEUS_UID, gid: PROMETHEUS_UID },
    { type: 'file', name: 'etc/passwd', content: passwd },
    { type: 'file', name: 'etc/group', content: group },
    { type: 'file', name: 'etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
    { type: 'file', name: 'bin/prometheus', source: host.prometheus, mode: 0o755 },
    { type: 'file', name: 'bin/promtool', source: host.promtool, mode: 0o755 },
    { type: 'file', name: 'etc/prometheus/prometheus.yml', source: host.config, mode: 0o644 },
  );
  for (const f of await ruleFiles(host.rules)) entries.push({ type: 'file', name: `etc/prometheus/rules/${basename(f)}`, source: f, mode: 0o644 });
  const dirs = new Set(entries.filter((e) => e.type === 'directory').map((e) => e.name));
  const libs = new Set([...(await sharedLibraries(host.prometheus)), ...(await sharedLibraries(host.promtool))]);
  for (const lib of [...libs].sort()) {
    // At the path the loader looks for (the binary's PT_INTERP, ldd's resolved paths), dereferenced.
    const parts = lib.slice(1).split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) entries.push({ type: 'directory', name: d });
      dirs.add(d);
    }
    entries.push({ type: 'file', name: lib.slice(1), source: await realpath(lib), mode: 0o755 });
  }
  entries.push(...(await webAssets()));
  return entries;
}

/** Image config for `docker import`: the upstream image's entrypoint and flags, as nobody, data in the /prometheus volume. */
export function prometheusImportChanges(host: PrometheusHost, fingerprint: string): string[] {
  return [
    'ENV PATH=/bin',
    `USER ${PROMETHEUS_UID}:${PROMETHEUS_UID}`,
    'WORKDIR /prometheus',
    'EXPOSE 9090',
    'VOLUME ["/prometheus"]',
    'ENTRYPOINT ["/bin/prometheus"]',
    'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--web.listen-address=:9090", "--web.local-assets=/usr/share/prometheus/web/"]',
    `LABEL ${FINGERPRINT_LABEL}=${fingerprint}`,
    `LABEL org.opencontainers.image.title=${PROMETHEUS_IMAGE_REPO}`,
    `LABEL org.opencontainers.image.version=${host.version}`,
    `LABEL org.opencontainers.image.description="Prometheus ${host.version} from the build machine's Debian package, with the gym-sentiment-guard config and rules"`,
  ];
}

/** Identity of what the image is built from: layout version, binaries, config and rule contents. */
async function fingerprint(host: PrometheusHost): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ FORMAT_VERSION, version: host.version }));
  for (const bin of [host.prometheus, host.promtool]) {
    const st = await stat(bin);
    hash.update(`${bin}:${st.size}:${st.mtimeMs}\n`);
  }
  for (const f of [host.config, ...(await ruleFiles(host.rules))]) hash.update(`${basename(f)}\n`).update(await readFile(f));
  return hash.digest('hex').slice(0, 16);
}

/** Builds (or reuses) the Prometheus image and gives it every tag. */
export async function ensurePrometheusImage(opts: PrometheusImageOptions = {}): Promise<PrometheusImage> {
  const docker = opts.docker ?? connectDocker();
  const onLine = opts.onLine ?? (() => {});
  const t0 = performance.now();
  const host = await describePrometheusHost(opts);
  const tags = opts.tags ?? [`${PROMETHEUS_IMAGE_REPO}:${host.version}`, `${PROMETHEUS_IMAGE_REPO}:latest`];
  const print = await fingerprint(host);
  const existing = await imageExists(docker, tags[0]!);
  let built = false;
  if (!existing || opts.force || existing.Config?.Labels?.[FINGERPRINT_LABEL] !== print) {
    onLine(`importing ${tags[0]} (prometheus ${host.version} from ${host.prometheus})`);
    const stream = await docker.importImage(packTar(await prometheusRootfs(host)), { ...splitImageRef(tags[0]!), changes: prometheusImportChanges(host, print) } as object);
    await followProgress(docker, stream, onLine);
    built = true;
  }
  const info = await imageExists(docker, tags[0]!);
  if (!info) throw new DockerError(`prometheus image: docker import finished but ${tags[0]} does not exist`, { image: tags[0] });
  for (const t of tags.slice(1)) await docker.getImage(info.Id).tag(splitImageRef(t));
  return { tags, id: info.Id, sizeBytes: info.Size, version: host.version, built, seconds: (performance.now() - t0) / 1000 };
}

// The minimal root filesystem of the offline base images, taken from this machine's own Node runtime: which host
// files (node, the shared libraries it and native addons need, dash and a few coreutils, npm, CA bundle) go where.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, realpath, lstat, readlink } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { TarEntry } from '../images/tar.js';

const run = promisify(execFile);

/** `build`: node + npm + /bin/sh + coreutils (the Dockerfile's build stage). `runtime`: node only, no shell. */
export type BaseVariant = 'build' | 'runtime';

export interface HostRuntime {
  /** The node binary to copy (default: this process's). */
  node: string;
  /** A stripped copy of `node` to ship instead, when `strip` is available (saves ~12 MB of symbol tables). */
  strippedNode?: string;
  nodeVersion: string;
  /** npm's package directory (build variant). */
  npmDir: string;
  caBundle: string;
}

export const NODE_UID = 1000;

/** glibc libraries a native addon may need beyond what node links (onnxruntime needs librt, libdl, ...). */
const GLIBC_SONAMES = ['libc.so.6', 'libm.so.6', 'libmvec.so.1', 'libdl.so.2', 'libpthread.so.0', 'librt.so.1', 'libresolv.so.2', 'libanl.so.1', 'libutil.so.1', 'libnss_files.so.2', 'libnss_dns.so.2'];
/** C++ runtime every native addon links. */
const CXX_SONAMES = ['libstdc++.so.6', 'libgcc_s.so.1'];
/** What a Dockerfile `RUN` in the build stage may use besides node and npm. */
export const BUILD_TOOLS = ['dash', 'rm', 'mkdir', 'cp', 'mv', 'ln', 'ls', 'cat', 'chmod', 'chown', 'env', 'id', 'uname', 'sleep', 'touch', 'head', 'tail', 'tr', 'cut', 'sort', 'wc', 'dirname', 'basename', 'readlink', 'mktemp', 'find', 'grep', 'sed'];
const USR_MERGED = ['bin', 'sbin', 'lib', 'lib64'];
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Absolute paths of the shared libraries `ldd` lists for a binary. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** Where a host path lives in the image: /lib, /bin, ... are symlinks into /usr there (Debian's merged /usr). */
function imagePath(hostPath: string): string {
  const top = hostPath.split('/')[1] ?? '';
  return USR_MERGED.includes(top) ? `/usr${hostPath}` : hostPath;
}

async function findInPath(cmd: string): Promise<string | undefined> {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const p = join(dir, cmd);
    if (existsSync(p)) return realpath(p);
  }
  return undefined;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

function etcFiles(host: HostRuntime, variant: BaseVariant): TarEntry[] {
  const passwd = ['root:x:0:0:root:/root:/bin/sh', `node:x:${NODE_UID}:${NODE_UID}::/home/node:/bin/sh`, 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin', ''].join('\n');
  const group = ['root:x:0:', `node:x:${NODE_UID}:`, 'nogroup:x:65534:', ''].join('\n');
  return [
    { type: 'file', name: 'etc/passwd', content: passwd },
    { type: 'file', name: 'etc/group', content: group },
    { type: 'file', name: 'etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
    {
      type: 'file',
      name: 'etc/os-release',
      content: `PRETTY_NAME="gsg-base node ${host.nodeVersion} (${variant}), from the build machine's Debian bookworm"\nNAME="gsg-base"\nID=gsg-base\nID_LIKE=debian\nVERSION_CODENAME=bookworm\n`,
    },
    { type: 'file', name: 'etc/ssl/certs/ca-certificates.crt', source: host.caBundle, mode: 0o644 },
  ];
}

/** The directories every variant has (mount points, /tmp, the node user's home). */
function directories(): TarEntry[] {
  const dirs: TarEntry[] = [];
  for (const d of ['usr', 'usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'usr/local', 'usr/local/bin', 'usr/local/lib', 'usr/local/etc', 'etc', 'etc/ssl', 'etc/ssl/certs', 'var', 'home', 'dev', 'proc', 'sys', 'run']) {
    dirs.push({ type: 'directory', name: d });
  }
  dirs.push({ type: 'directory', name: 'tmp', mode: 0o1777 }, { type: 'directory', name: 'var/tmp', mode: 0o1777 }, { type: 'directory', name: 'root', mode: 0o700 });
  dirs.push({ type: 'directory', name: 'home/node', uid: NODE_UID, gid: NODE_UID });
  for (const d of USR_MERGED) dirs.push({ type: 'symlink', name: d, target: `usr/${d}` });
  return dirs;
}

/**
 * Shared libraries (dereferenced, at their soname) for the given binaries plus the glibc and C++ runtime sets. The
 * loader comes from `ldd` at the path binaries expect (/lib64/ld-linux-x86-64.so.2, through the /lib64 symlink).
 */
async function libraries(binaries: string[]): Promise<TarEntry[]> {
  const hostLibs = new Set<string>();
  for (const b of binaries) for (const lib of await sharedLibraries(b)) hostLibs.add(lib);
  const libc = [...hostLibs].find((l) => basename(l) === 'libc.so.6');
  if (libc) {
    for (const so of [...GLIBC_SONAMES, ...CXX_SONAMES]) {
      const p = join(dirname(libc), so);
      if (existsSync(p)) hostLibs.add(p);
    }
  }
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  const seen = new Set<string>();
  for (const lib of [...hostLibs].sort()) {
    const name = imagePath(join(await realpath(dirname(lib)), basename(lib))).slice(1);
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = dirname(name);
    if (!dirs.has(dir) && !['usr/lib', 'usr/lib64'].includes(dir)) {
      dirs.add(dir);
      entries.push({ type: 'directory', name: dir });
    }
    entries.push({ type: 'file', name, source: await realpath(lib), mode: 0o755 });
  }
  return entries;
}

async function npmEntries(npmDir: string): Promise<TarEntry[]> {
  const root = 'usr/local/lib/node_modules/npm';
  const entries: TarEntry[] = [{ type: 'directory', name: 'usr/local/lib/node_modules' }, { type: 'directory', name: root }];
  for (const p of await walk(npmDir)) {
    const name = join(root, relative(npmDir, p));
    const st = await lstat(p);
    if (st.isSymbolicLink()) entries.push({ type: 'symlink', name, target: await readlink(p) });
    else if (st.isDirectory()) entries.push({ type: 'directory', name });
    else entries.push({ type: 'file', name, source: p, mode: st.mode & 0o777 });
  }
  entries.push(
    { type: 'symlink', name: 'usr/local/bin/npm', target: '../lib/node_modules/npm/bin/npm-cli.js' },
    { type: 'symlink', name: 'usr/local/bin/npx', target: '../lib/node_modules/npm/bin/npx-cli.js' },
    // npm's global config (prefix /usr/local): trust the image's CA bundle, as the host's npm does, and stay quiet.
    { type: 'file', name: 'usr/local/etc/npmrc', content: 'cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\nfund=false\naudit=false\n' },
  );
  return entries;
}

async function buildTools(): Promise<{ entries: TarEntry[]; binaries: string[] }> {
  const entries: TarEntry[] = [];
  const binaries: string[] = [];
  for (const tool of BUILD_TOOLS) {
    const p = await findInPath(tool);
    if (!p) continue;
    binaries.push(p);
    entries.push({ type: 'file', name: `usr/bin/${tool}`, source: p, mode: 0o755 });
  }
  entries.push({ type: 'symlink', name: 'usr/bin/sh', target: 'dash' });
  return { entries, binaries };
}

/** Every entry of the variant's root filesystem, directories before their contents. */
export async function rootfsEntries(host: HostRuntime, variant: BaseVariant): Promise<TarEntry[]> {
  const tools = variant === 'build' ? await buildTools() : { entries: [], binaries: [] };
  return [
    ...directories(),
    ...(await libraries([host.node, ...tools.binaries])),
    { type: 'file', name: 'usr/local/bin/node', source: host.strippedNode ?? host.node, mode: 0o755 },
    ...etcFiles(host, variant),
    ...tools.entries,
    ...(variant === 'build' ? await npmEntries(host.npmDir) : []),
  ];
}

/** Image config for `docker import` (the same defaults as the official node image, minus its entrypoint script). */
export function importChanges(host: HostRuntime): string[] {
  return [`ENV PATH=${PATH}`, `ENV NODE_VERSION=${host.nodeVersion.replace(/^v/, '')}`, 'CMD ["node"]'];
}

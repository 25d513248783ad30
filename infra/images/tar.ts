// Writes tar streams entry by entry, with the name, owner and mode chosen per entry: the Docker build context of a
// model-server image and the root filesystem of the offline base image are both packed here, without staging copies.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';

interface Owner {
  mode?: number;
  uid?: number;
  gid?: number;
}

export type TarEntry =
  | ({ type: 'directory'; name: string } & Owner)
  /** A file copied from `source` on this machine (mode defaults to the source's). */
  | ({ type: 'file'; name: string; source: string } & Owner)
  /** A file with the given contents (mode defaults to 0644). */
  | ({ type: 'file'; name: string; content: string | Buffer } & Owner)
  | { type: 'symlink'; name: string; target: string };

/** Fixed mtime, so packing the same inputs twice gives the same bytes (and the same imported layer). */
const MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * Packs the entries, in order, into a tar stream. Errors (an unreadable source) destroy the stream with the error,
 * naming the file.
 */
export function packTar(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  const tar = pack();
  void (async () => {
    for await (const e of entries) {
      const base = { name: e.name, mtime: MTIME, uid: 0, gid: 0 };
      if (e.type === 'symlink') {
        tar.entry({ ...base, type: 'symlink', linkname: e.target, mode: 0o777 });
        continue;
      }
      const owner = { uid: e.uid ?? 0, gid: e.gid ?? 0 };
      if (e.type === 'directory') {
        tar.entry({ ...base, ...owner, type: 'directory', mode: e.mode ?? 0o755 });
      } else if ('content' in e) {
        tar.entry({ ...base, ...owner, type: 'file', mode: e.mode ?? 0o644 }, typeof e.content === 'string' ? Buffer.from(e.content) : e.content);
      } else {
        const st = await stat(e.source).catch((err: unknown) => {
          throw new Error(`${e.source}: cannot read (${(err as Error).message})`);
        });
        await new Promise<void>((resolve, reject) => {
          const source = createReadStream(e.source).on('error', reject);
          const sink = tar.entry({ ...base, ...owner, type: 'file', size: st.size, mode: e.mode ?? st.mode & 0o777 }, (err) => (err ? reject(err) : resolve()));
          sink.on('error', reject);
          source.pipe(sink);
        });
      }
    }
    tar.finalize();
  })().catch((err: unknown) => tar.destroy(err as Error));
  return Readable.from(tar, { objectMode: false });
}

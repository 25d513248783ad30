// A logger for tests whose JSON lines are collected (parsed as they are written), to assert on logged events.
import { Writable } from 'node:stream';
import { createLogger } from '../../lib/log.js';

export type LogLine = Record<string, unknown> & { event?: string; level?: string };

/** A logger named `name` whose JSON lines land in `lines`. */
export function captureLogger(name: string, level: 'debug' | 'info' | 'warn' = 'info') {
  const lines: LogLine[] = [];
  let buf = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      }
      cb();
    },
  });
  return { lines, logger: createLogger({ name, level, destination }) };
}

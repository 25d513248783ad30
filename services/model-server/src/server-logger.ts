// The model-server process logger: pino JSON on stdout through a buffered writer (up to 8 KiB per write(2),
// flushed at least every 100 ms and on exit), so a request log line costs a string append, not a syscall.
import { pino } from 'pino';
import { createLogger, type Logger } from '../../../lib/log.js';
import type { ServerConfig } from './config.js';

export function createServerLogger(level: ServerConfig['logLevel']): Logger {
  // SonicBoom is the stream pino writes to anyway; its typings just do not claim NodeJS.WritableStream.
  const destination = pino.destination({ fd: 1, sync: false, minLength: 8192, periodicFlush: 100 }) as unknown as NodeJS.WritableStream;
  return createLogger({ name: 'model-server', level, destination });
}

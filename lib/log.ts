// pino JSON logger factory. Every line carries a stable `event` name; never log tokens or review texts.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function createLogger(opts: { name: string; level?: LevelWithSilent; destination?: number | NodeJS.WritableStream }): Logger {
  const level = opts.level ?? ((process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info');
  const dest = opts.destination;
  const stream = dest === undefined || typeof dest === 'number' ? pino.destination({ fd: dest ?? 1, sync: false }) : dest;
  return pino(
    {
      name: opts.name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['token', 'authorization', 'headers.authorization', 'texts', 'text'], censor: '[redacted]' },
    },
    stream,
  );
}

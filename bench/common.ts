// Helpers the benchmarks share: CPU time of a process from /proc, the median of a sample, and waiting for a server a
// bench spawned to become ready (the runtimes' waitUntilReady, failing early when the child exits).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitUntilReady } from '../infra/runtimes/ready.js';

/** CPU seconds (user + system) a process has used: per-request CPU is a figure that survives a busy machine. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** The median (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Resolves once GET <url>/ready answers 200 (polled every `intervalMs`); rejects when `child` exits first. */
export function childReady(url: string, child: ChildProcess, intervalMs: number, timeoutMs = 60_000): Promise<void> {
  return waitUntilReady(url, {
    timeoutMs,
    intervalMs,
    died: () => (child.exitCode !== null || child.signalCode !== null ? `server exited with ${child.exitCode ?? child.signalCode} before ready` : undefined),
  });
}

// Polling for state that changes asynchronously (a health probe, a rollout step, collected log lines).

/** Resolves once cond() holds, polling every 20 ms; rejects with "timed out waiting for <what>" after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

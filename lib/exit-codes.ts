// Process exit codes of the `gsg` CLI, one place so `--help` documents exactly what the commands return.
export enum ExitCode {
  Ok = 0,
  Error = 1,
  BadInput = 2,
  NotFound = 3,
  Conflict = 4,
  Integrity = 5,
  RolledBack = 6,
  Refused = 7,
}

export const EXIT_CODE_HELP = `Exit codes:
  0  success (promote: promoted)
  1  unexpected error
  2  bad input (flag, config, file contents)
  3  not found (model, version, alias, file)
  4  conflict (alias moved concurrently, version exists, stale generation)
  5  integrity failure (checksum mismatch)
  6  promote: rolled back by analysis
  7  promote: refused before any traffic (bad ref, rollout running, golden gate)`;

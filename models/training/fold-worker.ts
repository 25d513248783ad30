// Worker-thread entry that fits one calibration fold's logistic regression, so `gsg train` uses both cores. The
// fit is the same function the main thread would run, on the same rows: results do not depend on where it runs.
import { parentPort } from 'node:worker_threads';
import type { Csr } from './csr.js';
import { fitLogReg, type LogRegFit, type LogRegOptions } from './logreg.js';

export interface FoldJob {
  fold: number;
  X: Csr;
  y: Uint8Array;
  opts: LogRegOptions;
}

export interface FoldResult {
  fold: number;
  fit: LogRegFit;
}

parentPort?.on('message', (job: FoldJob) => {
  const fit = fitLogReg(job.X, job.y, job.opts);
  parentPort!.postMessage({ fold: job.fold, fit } satisfies FoldResult, [fit.coef.buffer as ArrayBuffer]);
});

// SIGTERM/SIGINT handling for a model-server process: the first signal drains (ServerHandle.close), a second one
// exits at once. Resolves with the exit code: 0 when every in-flight request was answered, 1 when the grace
// period ran out first.
import type { Logger } from '../../../lib/log.js';
import type { ServerHandle } from './server.js';

export function drainOnSignals(handle: Pick<ServerHandle, 'close'>, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let received = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      received++;
      if (received > 1) {
        logger.warn({ event: 'serving.shutdown', phase: 'forced', signal, msg: 'second signal: exiting without waiting for in-flight requests' });
        logger.flush(() => process.exit(1));
        return;
      }
      logger.info({ event: 'serving.shutdown', phase: 'signal', signal });
      handle.close().then(
        ({ drained }) => resolve(drained ? 0 : 1),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

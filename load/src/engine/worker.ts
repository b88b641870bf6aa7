// Child-process entry of the embedded engine: runs scenarios on request over IPC, so the load
// generator has an event loop of its own, apart from the compare runner's bookkeeping.
import type { WorkerMessage, WorkerRequest } from './protocol';
import { runScenario } from './run-scenario';

function reply(message: WorkerMessage) {
  process.send?.(message);
}

process.on('message', (raw: WorkerRequest) => {
  if (raw?.type !== 'run') return;
  const { id } = raw;
  runScenario({
    baseUrl: raw.baseUrl,
    scenario: raw.scenario,
    tokens: raw.tokens,
    recordEvents: raw.recordEvents,
    requestTimeoutMs: raw.requestTimeoutMs,
    onProgress: (progress) => reply({ type: 'progress', id, progress }),
  })
    .then((result) => reply({ type: 'result', id, result }))
    .catch((error: unknown) => reply({ type: 'error', id, message: error instanceof Error ? error.message : String(error) }));
});
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready' });

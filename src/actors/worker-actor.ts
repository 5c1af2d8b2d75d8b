/**
 * Turns a worker into the `runJob` actor that job daemons invoke: progress and the outcome come
 * back as events, and stopping the actor (the daemon leaves the state, or stops) aborts the job.
 */
import { fromCallback } from 'xstate';
import { CoordinationError } from '../errors.js';
import type { JobFeedback } from '../machines/job-daemon.js';
import type { Job, Worker } from '../workers/worker.js';

export function workerActor(worker: Worker) {
  return fromCallback<JobFeedback, Job>(({ input, sendBack }) => {
    const controller = new AbortController();
    let finished = false;
    worker
      .run(input, {
        signal: controller.signal,
        progress: (progress) => !finished && sendBack({ type: 'job.progress', progress }),
      })
      .then(
        (result) => {
          finished = true;
          sendBack({ type: 'job.done', result });
        },
        (error: unknown) => {
          finished = true;
          if (controller.signal.aborted) return; // stopped on purpose: nobody is listening
          if (!(error instanceof CoordinationError) && !(error instanceof Error)) throw error;
          sendBack({ type: 'job.failed', error: error.message });
        },
      );
    return () => {
      if (!finished) controller.abort(new Error('daemon stopped'));
    };
  });
}

/**
 * Turns a worker into the `runJob` actor that job daemons invoke: progress and the outcome come
 * back as events, and stopping the actor (the daemon leaves the state, or stops) aborts the job.
 */
import { fromCallback } from 'xstate';
import { CoordinationError } from '../errors.js';
import type { JobFeedback } from '../machines/job-daemon.js';
import { JOB_INPUTS, type Job, type Worker } from '../workers/worker.js';

/**
 * The problems of a job's input against its kind's schema, one line naming each field; null
 * when valid. The input may come from another process's event: nothing unchecked reaches a
 * worker (a `games: -5` once became `--samples -300` on a real command line).
 */
export function jobInputProblems(job: Job): string | null {
  const checked = JOB_INPUTS[job.kind].safeParse(job.input);
  if (checked.success) return null;
  return checked.error.issues
    .map((i) => `'${i.path.join('.') || '(input)'}': ${i.message}`)
    .join('; ');
}

export function workerActor(worker: Worker) {
  return fromCallback<JobFeedback, Job>(({ input, sendBack }) => {
    const problems = jobInputProblems(input);
    if (problems !== null) {
      sendBack({
        type: 'job.failed',
        error: `invalid ${input.kind} job input: ${problems}`,
        retryable: false,
      });
      return () => {};
    }
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

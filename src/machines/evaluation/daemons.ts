/** The Evaluation section of the guide: its daemons as specs. */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { evaluationMachine } from './evaluation.js';

export function evaluationDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'EVALUATION',
    machine: evaluationMachine.provide({ actors: { runJob: ctx.runJob } }),
    machineVersion: ctx.machineVersion,
    subscribes: ['EVALUATION_REQUESTED'],
    emits: [
      'EVALUATION_STARTED',
      'EVALUATION_PROGRESS',
      'EVALUATION_COMPLETED',
      'EVALUATION_FAILED',
    ],
  };
}

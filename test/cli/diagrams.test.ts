import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderDiagrams } from '../../src/cli/diagrams.js';

const dir = new URL('../../diagrams/', import.meta.url).pathname;

describe('diagrams/', () => {
  it('is up to date with the machines, the specs and a simulated run (run `ringrift-coord diagrams`)', async () => {
    const rendered = await renderDiagrams();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(rendered).sort());
    for (const [name, text] of Object.entries(rendered))
      expect(readFileSync(`${dir}${name}`, 'utf8'), name).toBe(text);
    expect(rendered['flow-model-promotion.md']).toContain(
      'AUTO_PROMOTION->>MODEL_DISTRIBUTION: MODEL_PROMOTED',
    );
    expect(rendered['daemon-lifecycle.md']).toContain('running --> backingOff: child.exited');
  });

  it('draw flows in publish order, with every delivery, and state diagrams with the states the machine has', async () => {
    const rendered = await renderDiagrams();
    const training = rendered['flow-training-completion.md'] as string;
    // Started before completed (it was drawn the other way round, sorted by name).
    expect(training.indexOf('EVALUATION_STARTED')).toBeGreaterThan(0);
    expect(training.indexOf('EVALUATION_STARTED')).toBeLessThan(
      training.indexOf('EVALUATION_COMPLETED'),
    );
    // A subscriber that does not answer is still drawn (DATA_PIPELINE keeps the stage).
    expect(training).toContain('CONTINUOUS_TRAINING_LOOP->>DATA_PIPELINE: TRAINING_COMPLETED');
    expect(training).toContain('CONTINUOUS_TRAINING_LOOP->>FEEDBACK_LOOP: TRAINING_COMPLETED');
    // Monitoring tracks the evaluation lifecycle, as the guide's row says.
    expect(training).toContain('EVALUATION->>MONITORING: EVALUATION_STARTED');
    // An event nobody subscribes to is a note, not a message to oneself.
    expect(rendered['flow-model-promotion.md']).toContain(
      'Note over MODEL_DISTRIBUTION: MODEL_DISTRIBUTION_STARTED (no subscriber)',
    );
    expect(training).not.toMatch(/(\w+)->>\1:/);
    // The machine's own transitions are a note: no state named after the machine.
    const evaluation = rendered['evaluation.md'] as string;
    expect(evaluation).not.toContain('evaluation --> evaluation');
    expect(evaluation).toContain(
      'note right of idle : in every state, handles EVALUATION_REQUESTED',
    );
    // The index says what each diagram shows.
    for (const line of (rendered['index.md'] as string)
      .split('\n')
      .filter((l) => l.startsWith('- ')))
      expect(line).toMatch(/^- \[[\w-]+\]\([\w-]+\.md\): \w.{20,}/);
  });
});

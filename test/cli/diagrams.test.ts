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
});

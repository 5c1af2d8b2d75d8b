import { describe, expect, it } from 'vitest';
import { runCli as cli, cliWith } from '../support/processes.js';

describe('ringrift-coord demo (what npm start runs)', () => {
  it('runs the flow through the router and prints counts and recent events', async () => {
    const { stdout } = await cli('demo');
    expect(stdout).toContain('Promoted hex8_2p-v2');
    expect(stdout).toContain('Stage subscriber deliveries: 1');
    expect(stdout).toContain('Subscribers: {"TRAINING_COMPLETED":2,"EVALUATION_COMPLETED":1}');
    expect(stdout).toMatch(/Stats: published=3 deliveries=4 errors=0 timeouts=0/);
    expect(stdout.match(/^ {2}\S+-\d+ {2}/gm)).toHaveLength(3);
  });

  it('exits 2 with usage on an unknown command', async () => {
    await expect(cli('frobnicate')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown command 'frobnicate'"),
    });
  });

  it('refuses a bad RINGRIFT_LOG_LEVEL with a clear message', async () => {
    await expect(cliWith({ RINGRIFT_LOG_LEVEL: 'loud' })('demo')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        "ringrift-coord: 'RINGRIFT_LOG_LEVEL' must be one of fatal, error, warn, info, debug, trace, silent (got 'loud')",
      ),
    });
  });
});

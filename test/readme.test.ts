import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(`${root}README.md`, 'utf8');

describe('README', () => {
  it('has exactly the two quick-start commands', () => {
    const block = readme.split('## Quick start')[1]?.split('```sh')[1]?.split('```')[0] ?? '';
    const commands = block
      .trim()
      .split('\n')
      .map((l) => l.split('#')[0]?.trim());
    expect(commands).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('every image it shows is committed, and small', () => {
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+\.png)\)/g)].map((m) => m[1] as string);
    expect(images.length).toBeGreaterThanOrEqual(5);
    for (const image of images) expect(statSync(`${root}${image}`).size).toBeLessThan(150_000);
  });

  it('embeds examples/quick-start.ts verbatim, and the example runs', async () => {
    const example = readFileSync(`${root}examples/quick-start.ts`, 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/quick-start.ts'],
      { cwd: root, env: { ...process.env, RINGRIFT_LOG_LEVEL: 'warn' } },
    );
    expect(stdout).toContain('training finished for hex8_2p: models/hex8_2p.pth');
    expect(stdout).toContain('Subscribers: { TRAINING_COMPLETED: 1, EVALUATION_COMPLETED: 1 }');
  });

  it('embeds examples/embed-pipeline.ts verbatim, and one iteration runs through every flow', async () => {
    const example = readFileSync(`${root}examples/embed-pipeline.ts`, 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/embed-pipeline.ts'],
      { cwd: root, env: { ...process.env, RINGRIFT_LOG_LEVEL: 'warn' } },
    );
    const types = stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[1]);
    for (const t of ['SELFPLAY_COMPLETE', 'TRAINING_COMPLETED', 'EVALUATION_COMPLETED'])
      expect(types).toContain(t);
    expect(types.at(-1)).toBe('ITERATION_COMPLETE');
    expect(stdout.split('\n').every((l) => l === '' || l.startsWith('iteration-1:hex8_2p  '))).toBe(
      true,
    );
  });
});

/**
 * Issue 9.9: the package as a user gets it. `npm pack`, installed into a fresh project that
 * type-checks strictly (no skipLibCheck): the published .d.ts must resolve every type they
 * import (better-sqlite3's were a devDependency: TS7016), the README's embedding example must
 * compile and run, and the command must start. The tarball carries the LICENSE.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'ringrift-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) =>
  exec('npm', args, {
    cwd,
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' },
    maxBuffer: 64 * 1024 * 1024,
  });

describe('the packed package', () => {
  it('installs into a strict TypeScript project, which compiles and runs the README example; the CLI starts', async () => {
    const packed = JSON.parse(
      (await npm(['pack', '--json', '--pack-destination', work], root)).stdout,
    );
    const tarball = join(work, packed[0].filename as string);
    const files = (packed[0].files as { path: string }[]).map((f) => f.path);
    expect(files).toContain('LICENSE');
    expect(files).toContain('dist/index.d.ts');
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);

    const app = join(work, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          outDir: 'dist',
          rootDir: 'src',
          types: ['node'],
        },
      }),
    );
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    const version = (name: string) => lock.packages[`node_modules/${name}`].version as string;
    // What the build needs comes from the npm cache `npm ci` filled; the native driver is not
    // compiled again (minutes on 2 cores): the project's build of the same version is copied in.
    await npm(
      [
        'install',
        '--prefer-offline',
        '--ignore-scripts',
        tarball,
        `typescript@${version('typescript')}`,
        `@types/node@${version('@types/node')}`,
      ],
      app,
    );
    cpSync(
      join(root, 'node_modules/better-sqlite3/build'),
      join(app, 'node_modules/better-sqlite3/build'),
      { recursive: true },
    );
    // The README's embedding example, as a user copies it.
    cpSync(join(root, 'examples/embed-pipeline.ts'), join(app, 'src/embed.ts'));
    const compiled = await exec(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], {
      cwd: app,
    }).then(
      () => 'ok',
      (e: { stdout: string }) => e.stdout,
    );
    expect(compiled).toBe('ok');
    const ran = await exec(process.execPath, ['dist/embed.js'], {
      cwd: app,
      env: { ...process.env, RINGRIFT_LOG_LEVEL: 'warn' },
    });
    expect(ran.stdout.trim().split('\n').at(-1)).toMatch(
      /^iteration-1:hex8_2p {2}ITERATION_COMPLETE$/,
    );
    const help = await exec('npx', ['--no-install', 'ringrift-coord', '--help'], { cwd: app });
    expect(help.stdout).toMatch(/^usage: ringrift-coord <command>/);
  }, 300_000);
});

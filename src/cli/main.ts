#!/usr/bin/env node
/** `ringrift-coord`: the command line. Commands arrive with the daemons (issue 5); `demo` now. */
import { CoordinationError } from '../errors.js';
import { runDemo } from './demo.js';

const USAGE = `usage: ringrift-coord <command>

commands:
  demo    publish a small slice of the training flow through the router and print what happened`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'demo':
      return runDemo();
    case undefined:
    case '-h':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`ringrift-coord: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // A misuse (bad option, bad environment) is the user's to fix: say what, not where in the code.
  if (!(error instanceof CoordinationError)) throw error;
  console.error(`ringrift-coord: ${error.message}`);
  process.exitCode = 2;
}

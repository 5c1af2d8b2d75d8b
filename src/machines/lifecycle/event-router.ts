/**
 * EVENT_ROUTER as a supervised daemon: the router itself lives in the runtime; this machine is
 * its presence in the start plan (everything depends on it) and is ready at once.
 */
import { setup } from 'xstate';

export const eventRouterMachine = setup({}).createMachine({
  id: 'eventRouter',
  initial: 'routing',
  states: { routing: { tags: ['ready'] } },
});

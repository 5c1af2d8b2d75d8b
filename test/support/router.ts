/** A router per test with its logs captured; closed by the caller (usually in afterEach). */
import { createRouter, type Router, type RouterOptions } from '../../src/index.js';
import { type MemoryLogger, memoryLogger } from './memory-logger.js';

export function testRouter(options: RouterOptions = {}): { router: Router; log: MemoryLogger } {
  const log = memoryLogger();
  const router = createRouter({ name: 'test', logger: log.logger, trace: false, ...options });
  return { router, log };
}

export const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** A minimal valid TRAINING_COMPLETED payload. */
export const trainingCompleted = (config_key = 'hex8_2p') => ({
  config_key,
  success: true,
  duration: 10,
});

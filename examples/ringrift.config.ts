/**
 * A worker config for `ringrift-coord run --config examples/ringrift.config.ts`: real commands for
 * training and evaluation, the other kinds simulated. Values are computed, which JSON cannot do.
 */
import { defineConfig } from 'ringrift-coordination';

const python = process.env.RINGRIFT_PYTHON ?? 'python3';
const hour = 3_600_000;

export default defineConfig({
  workers: {
    training: {
      command: [python, 'train.py', '--config', '{config_key}', '--epochs', '{epochs}'],
      timeoutMs: 6 * hour,
    },
    evaluation: {
      command: [python, 'gauntlet.py', '--model', '{model_path}', '--games', '{games}'],
      timeoutMs: hour,
    },
  },
});

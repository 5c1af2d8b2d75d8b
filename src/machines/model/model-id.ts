/** How a model is named across daemons: by its file, when no emitter named it. */

/** `models/hex8_2p/gen3.pth` -> `hex8_2p-gen3`. */
export function modelIdOf(modelPath: string): string {
  const parts = modelPath
    .replace(/\.[a-z]+$/, '')
    .split('/')
    .filter(Boolean);
  return parts.slice(-2).join('-');
}

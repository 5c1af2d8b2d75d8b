/**
 * What both inspector servers (the local page and the Stately bridge) do before serving anything.
 *
 * Loopback is not enough on its own: any page open in the operator's browser can open a
 * WebSocket or send a request to 127.0.0.1 (cross-site request forgery, WebSocket hijacking) or
 * reach it under a name it controls (DNS rebinding). So every request must carry the random
 * token of the printed URL, its `Host` must be this loopback address, and an `Origin`, when the
 * browser sends one, must be this page's.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { InspectorPortError } from '../../errors.js';

export const LOOPBACK = '127.0.0.1';

export function newToken(): string {
  return randomBytes(16).toString('hex');
}

/** The checks every request passes: loopback Host, this page's Origin (or none), the token. */
export function allowedRequest(
  request: Pick<IncomingMessage, 'headers' | 'url'>,
  port: number,
  token: string,
): boolean {
  const hosts = [`${LOOPBACK}:${port}`, `localhost:${port}`];
  if (!hosts.includes(request.headers.host ?? '')) return false;
  const origin = request.headers.origin;
  if (origin !== undefined && !hosts.map((h) => `http://${h}`).includes(origin)) return false;
  const url = new URL(request.url ?? '/', `http://${LOOPBACK}:${port}`);
  return url.searchParams.get('token') === token;
}

/**
 * Listens on the loopback interface; resolves with the port (the one chosen when 0 was asked).
 * @throws {InspectorPortError} when the port is taken or not allowed, naming `option`.
 */
export function listenLoopback(server: Server, port: number, option: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new InspectorPortError(LOOPBACK, port, error.code, option)
          : error,
      ),
    );
    server.listen(port, LOOPBACK, () => {
      server.removeAllListeners('error');
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

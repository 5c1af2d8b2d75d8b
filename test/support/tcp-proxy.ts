/**
 * A TCP proxy on 127.0.0.1 in front of a local server, which can hold back what the server sends
 * to its clients while their own bytes still reach it: a server that got a message and has not
 * answered yet, as a slow acknowledgement looks to a client.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly url: string;
  /** The server's bytes to every client wait in the proxy until `release()`. */
  holdToClients(): void;
  release(): void;
  /** How many chunks of bytes the clients sent so far (about one per socket write at a low rate). */
  clientChunks(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const upstreams = new Set<Socket>();
  let holding = false;
  let chunks = 0;
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    upstreams.add(upstream);
    if (holding) upstream.pause();
    client.on('data', () => {
      chunks++;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      upstreams.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `nats://127.0.0.1:${port}`,
    holdToClients() {
      holding = true;
      for (const u of upstreams) u.pause();
    },
    release() {
      holding = false;
      for (const u of upstreams) u.resume();
    },
    clientChunks: () => chunks,
    async close() {
      for (const u of upstreams) u.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** HTTP as a browser would not send it: a raw request with any headers (Host included). */
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';

/** The raw response (status line, headers, body) of a GET with exactly these headers. */
export function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}Connection: close\r\n\r\n`,
      );
    });
    let data = '';
    socket.on('data', (d) => {
      data += d;
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

/** A port on 127.0.0.1 that something is listening on (close it after). */
export async function takenPort(): Promise<{ port: number; close(): void }> {
  const blocker = createServer();
  const port = await new Promise<number>((resolve) =>
    blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
  );
  return { port, close: () => blocker.close() };
}

/** Every external IPv4 address of this machine (none in some sandboxes; said in the log). */
export function externalAddresses(): string[] {
  const external = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a?.address as string);
  console.log(`inspector refused on: ${external.join(', ') || '(no external IPv4 address here)'}`);
  return external;
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy saw of one exchange: the request's path and body, the answer's status and body. */
export interface Exchange {
  path: string;
  body: string;
  status: number;
  answer: string;
}

/**
 * An HTTP proxy on loopback in front of `target` that passes every exchange through, except that it
 * cuts the connection instead of answering when `loseReply` says so: the request has been served
 * (its effect is real) but the caller never hears back, as when a network drops a reply.
 */
export async function startLossyProxy(target: string, loseReply: (exchange: Exchange) => boolean) {
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', async () => {
      try {
        const body = Buffer.concat(chunks);
        const answer = await fetch(`${target}${incoming.url}`, {
          method: incoming.method,
          headers: Object.fromEntries(
            Object.entries(incoming.headers).filter(
              (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host',
            ),
          ),
          body: incoming.method === 'GET' || incoming.method === 'HEAD' ? undefined : body,
        });
        const text = await answer.text();
        const exchange = {
          path: incoming.url ?? '/',
          body: body.toString(),
          status: answer.status,
          answer: text,
        };
        if (loseReply(exchange)) {
          outgoing.destroy();
          return;
        }
        outgoing.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' });
        outgoing.end(text);
      } catch {
        // The target closed under a long poll as a test ended: the caller sees its connection drop.
        outgoing.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

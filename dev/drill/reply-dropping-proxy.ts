import { createConnection, createServer, type Socket } from 'node:net';

export interface ReplyDroppingProxy {
  /** `redis://` address of the proxy: what the stack is given as REDIS_URL. */
  url: string;
  /**
   * For `ms`, commands still reach Redis (and run) but every reply is dropped on the way back; then
   * the connections that lost replies are reset, as a client's broken connection would be, so no
   * client reads a later reply as an earlier command's.
   */
  dropRepliesFor(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on loopback in front of a Redis server, which can lose replies on purpose. */
export async function startReplyDroppingProxy(target: { host: string; port: number }) {
  let dropping = false;
  const open = new Set<{ client: Socket; upstream: Socket; lostReplies: boolean }>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    const pair = { client, upstream, lostReplies: false };
    open.add(pair);
    client.on('data', (bytes) => upstream.write(bytes));
    upstream.on('data', (bytes) => {
      if (dropping) pair.lostReplies = true;
      else client.write(bytes);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(pair);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    async dropRepliesFor(ms) {
      dropping = true;
      await new Promise((resolve) => setTimeout(resolve, ms));
      dropping = false;
      for (const pair of [...open]) {
        if (pair.lostReplies) {
          pair.client.destroy();
          pair.upstream.destroy();
          open.delete(pair);
        }
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of open) {
          pair.client.destroy();
          pair.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  } satisfies ReplyDroppingProxy;
}

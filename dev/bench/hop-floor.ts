/**
 * The ceiling this machine puts on any design, measured the way the warm path is: a bare `node:http`
 * server (no framework, no auth, no queue) that makes `hops` loopback calls one after another to the
 * mock engine for each request, driven by the same load tool. The edge reaches Redis and Postgres over
 * HTTP (Upstash REST, Neon's HTTP endpoint), and a worker's take and completion are HTTP requests
 * to the edge, so a job costs the edge process several such round trips however lean its code.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { load } from './load.ts';
import { startServerProcess } from './server-process.ts';

export interface HopFloorRow {
  hops: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

export async function hopFloor(options: {
  engineUrl: string;
  hops: number[];
  connections: number;
  seconds: number;
}): Promise<HopFloorRow[]> {
  const rows: HopFloorRow[] = [];
  for (const hops of options.hops) {
    const server = await startHopServer(options.engineUrl, hops);
    try {
      const result = await load({
        url: server.url,
        body: { model: 'floor', messages: [{ role: 'user', content: 'hi' }] },
        connections: options.connections,
        seconds: options.seconds,
      });
      rows.push({
        hops,
        requestsPerSecond: result.requestsPerSecond,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        failures: result.failures,
      });
    } finally {
      await server.close();
    }
  }
  return rows;
}

/** In its own process, as the edge is: the load tool does not share its event loop. */
const startHopServer = (engineUrl: string, hops: number) =>
  startServerProcess('hop server', fileURLToPath(import.meta.url), [engineUrl, String(hops)]);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [engineUrl = '', hopsText = '0'] = process.argv.slice(2);
  const hops = Number(hopsText);
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    for (let hop = 0; hop < hops; hop++) {
      const reply = await fetch(`${engineUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await reply.json();
    }
    response.setHeader('content-type', 'application/json');
    response.end('{"ok":true}');
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

import { createServer } from 'node:net';

export class PortInUseError extends Error {
  constructor(port: number, name: string, variable: string) {
    super(`Port ${port} (${name}) is already in use. Stop whatever is listening there, or set ${variable}.`);
    this.name = 'PortInUseError';
  }
}

/** Resolves when nothing listens on 127.0.0.1:port; a second `npm run dev` fails here with the port named. */
export function assertPortFree(port: number, name: string, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, name, variable) : error);
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

const handedOut = new Set<number>();

/**
 * A port nobody listens on now (tests, the bench). Drawn below Linux's ephemeral range (32768+): a
 * port from that range can be taken as the local end of any outgoing connection between this probe
 * and the caller's listen, which made parallel test files fail with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    // A port handed out is not listened on until its caller starts: never hand it out twice meanwhile
    // (the local cloud draws eight at once, and two draws of one port failed its start).
    if (handedOut.has(port)) continue;
    if (await listens(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port found between 20000 and 32000');
}

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

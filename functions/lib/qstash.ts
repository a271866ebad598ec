import { Client, Receiver } from '@upstash/qstash';
import { UnauthorizedError } from '../core/errors.ts';
import { guardDependency } from './guard.ts';

export interface QueueSettings {
  url: string;
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
}

export interface Queue {
  /** Publishes messages (scale-up nudges, webhook deliveries) and manages schedules. */
  client: Client;
  /** Verifies `Upstash-Signature` over the raw body of calls that only QStash may make. */
  receiver: Receiver;
  /** Cheap authenticated round trip, for health checks. */
  ping(): Promise<void>;
}

export function createQueue(settings: QueueSettings): Queue {
  const client = new Client({ baseUrl: settings.url, token: settings.token, retry: false });
  const receiver = new Receiver({
    currentSigningKey: settings.currentSigningKey,
    nextSigningKey: settings.nextSigningKey,
    devMode: false,
  });
  const keysUrl = new URL('/v2/keys', settings.url).toString();
  return {
    client: guardDependency('qstash', client),
    receiver,
    async ping() {
      const response = await fetch(keysUrl, { headers: { authorization: `Bearer ${settings.token}` } });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`QStash answered ${response.status}`);
    },
  };
}

/**
 * The raw body of a call only QStash may make, once its `Upstash-Signature` is verified (over that
 * body and the route's public URL) with the current or next signing key; anything else is a 401.
 */
export async function verifiedQStashBody(
  ctx: { queue: Queue; config: { PUBLIC_URL: string } },
  request: Request,
  path: string,
): Promise<string> {
  const raw = await request.text();
  const signature = request.headers.get('upstash-signature');
  const url = new URL(path, ctx.config.PUBLIC_URL).toString();
  const genuine = signature
    ? await ctx.queue.receiver.verify({ signature, body: raw, url }).catch(() => false)
    : false;
  if (!genuine) throw new UnauthorizedError('Only QStash may call this route.');
  return raw;
}

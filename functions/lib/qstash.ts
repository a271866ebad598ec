import { Client, Receiver } from '@upstash/qstash';
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

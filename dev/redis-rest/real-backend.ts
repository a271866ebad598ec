import IORedis from 'ioredis';
import {
  type CommandOutcome,
  isBlocking,
  type RedisBackend,
  RedisReplyError,
  RedisUnavailableError,
  toReply,
} from './backend.ts';

const MAX_IDLE_BLOCKING_CONNECTIONS = 16;

function translate(error: unknown): Error {
  if (error instanceof Error && error.name === 'ReplyError') return new RedisReplyError(error.message);
  return new RedisUnavailableError(error instanceof Error ? error.message : String(error));
}

/**
 * A real Redis server behind the REST endpoint. Commands fail at once while it is down (no offline
 * queue), so the edge sees an outage instead of a hang.
 */
export async function connectRealBackend(url: string): Promise<RedisBackend> {
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 } as const;
  const main = new IORedis(url, { ...options, lazyConnect: true });
  main.on('error', () => {});
  try {
    await main.connect();
  } catch (error) {
    main.disconnect();
    throw new Error(`Cannot connect to Redis at ${url}: ${(error as Error).message}`);
  }
  const idle: IORedis[] = [];

  const borrow = async (): Promise<IORedis> => {
    const connection = idle.pop();
    if (connection) return connection;
    const fresh = main.duplicate({ ...options, lazyConnect: true });
    fresh.on('error', () => {});
    await fresh.connect();
    return fresh;
  };

  const giveBack = (connection: IORedis) => {
    if (idle.length < MAX_IDLE_BLOCKING_CONNECTIONS && connection.status === 'ready') idle.push(connection);
    else connection.disconnect();
  };

  return {
    kind: 'redis',
    async command(args) {
      const [name, ...rest] = args;
      if (!name) throw new RedisReplyError('ERR empty command');
      if (!isBlocking(args)) {
        return main.callBuffer(name, ...rest).then(toReply, (error: unknown) => {
          throw translate(error);
        });
      }
      let connection: IORedis;
      try {
        connection = await borrow();
      } catch (error) {
        throw translate(error);
      }
      try {
        return toReply(await connection.callBuffer(name, ...rest));
      } catch (error) {
        throw translate(error);
      } finally {
        giveBack(connection);
      }
    },
    async transaction(commands) {
      const multi = main.multi();
      for (const [name, ...rest] of commands) multi.callBuffer(name ?? '', ...rest);
      let results: [Error | null, unknown][] | null;
      try {
        results = await multi.exec();
      } catch (error) {
        throw translate(error);
      }
      if (!results) throw new RedisReplyError('EXECABORT Transaction discarded');
      return results.map(
        ([error, result]): CommandOutcome => (error ? { error: error.message } : { result: toReply(result) }),
      );
    },
    async close() {
      for (const connection of idle.splice(0)) connection.disconnect();
      await main.quit().catch(() => main.disconnect());
    },
  };
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Receiver } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen, readBody } from '../../dev/http.ts';
import { startQStash } from '../../dev/qstash/server.ts';

const keys = { currentSigningKey: 'sig_current_key', nextSigningKey: 'sig_next_key' };
const token = 'qstash-token';

/** What `npm run dev` promises for QStash: schedules and undelivered messages survive a restart. */
describe('QStash stand-in across restarts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aicloud-qstash-'));
  const dataFile = join(dataDir, 'qstash.json');
  const receiver = new Receiver({ ...keys, devMode: false });
  const deliveries: { body: string; verified: boolean }[] = [];
  const destination = createServer(async (request, response) => {
    const body = (await readBody(request)).toString('utf8');
    const verified = await receiver
      .verify({ signature: String(request.headers['upstash-signature']), body, url: `${baseUrl}/hook` })
      .catch(() => false);
    deliveries.push({ body, verified });
    response.writeHead(200).end('ok');
  });
  let baseUrl: string;

  beforeAll(async () => {
    baseUrl = `http://127.0.0.1:${await listen(destination, 0)}`;
  });
  afterAll(async () => {
    await closeServer(destination);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers a delayed message published before the restart, and keeps schedules', async () => {
    const first = await startQStash({ port: 0, token, ...keys, dataFile });
    const firstClient = new Client({ baseUrl: first.url, token });
    await firstClient.publishJSON({ url: `${baseUrl}/hook`, body: { job: 'scale-up' }, delay: 2 });
    const { scheduleId } = await firstClient.schedules.create({
      destination: `${baseUrl}/hook`,
      cron: '0 0 1 1 *',
      body: 'reconcile',
    });
    await first.close();
    expect(deliveries).toHaveLength(0);

    const second = await startQStash({ port: 0, token, ...keys, dataFile });
    try {
      const secondClient = new Client({ baseUrl: second.url, token });
      const schedules = await secondClient.schedules.list();
      expect(schedules.map((schedule) => schedule.scheduleId)).toEqual([scheduleId]);
      expect(schedules[0]?.cron).toBe('0 0 1 1 *');

      const deadline = Date.now() + 6_000;
      while (deliveries.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(deliveries).toEqual([{ body: JSON.stringify({ job: 'scale-up' }), verified: true }]);
    } finally {
      await second.close();
    }
  });

  it('refuses to start over an unreadable state file instead of silently dropping it', async () => {
    const corrupt = join(dataDir, 'corrupt.json');
    writeFileSync(corrupt, '{"messages": [');
    await expect(startQStash({ port: 0, token, ...keys, dataFile: corrupt })).rejects.toThrow(
      `QStash state in ${corrupt} is unreadable`,
    );
  });
});

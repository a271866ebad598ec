import { Miniflare } from 'miniflare';
import { afterAll } from 'vitest';

let started: Promise<{ bucket: unknown; dispose: () => Promise<void> }> | undefined;

/**
 * The PAYLOADS R2 bucket as workerd implements it (miniflare, in memory), for route tests that run
 * the app in Node: the same binding `wrangler dev` gives the edge. One per test file, disposed after it.
 */
export function payloadsBucket(): Promise<unknown> {
  started ??= (async () => {
    const mf = new Miniflare({
      workers: [
        {
          config: {
            name: 'payloads',
            compatibilityDate: '2026-10-30',
            manifest: {
              mainModule: 'index.js',
              modules: {
                'index.js': { type: 'esm', contents: 'export default { fetch: () => new Response(null) }' },
              },
            },
            env: { PAYLOADS: { type: 'r2', name: 'aicloud-payloads' } },
          },
        },
      ],
    });
    const bucket = await mf.getR2Bucket('PAYLOADS');
    afterAll(() => mf.dispose());
    return { bucket, dispose: () => mf.dispose() };
  })();
  return started.then(({ bucket }) => bucket);
}

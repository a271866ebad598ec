import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generateApiTypes, SCHEMA_FILE } from './api-types.ts';

it('the dashboard API types match the routes (run `npm run api:types` after changing a route)', async () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await generateApiTypes());
});

import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { toServiceError } from './http-errors.ts';

const failedQuery = (code: string | undefined) =>
  new DrizzleQueryError('insert into "jobs" …', [], Object.assign(new Error('refused'), { code }));

describe('toServiceError: a failed query', () => {
  it('is the caller’s 400 when Postgres could not store a value it sent (class 22)', () => {
    for (const code of ['22P05', '22021', '22P02', '22003'])
      expect(toServiceError(failedQuery(code)).code, code).toBe('invalid_request');
  });

  it('is a conflict on a unique violation, an outage without SQLSTATE, and ours otherwise', () => {
    expect(toServiceError(failedQuery('23505')).code).toBe('conflict');
    expect(toServiceError(failedQuery(undefined)).code).toBe('service_unavailable');
    expect(toServiceError(failedQuery('42P01')).code).toBe('internal');
  });
});

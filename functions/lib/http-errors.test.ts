import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { toServiceError } from './http-errors.ts';

const failedQuery = (code: string | undefined) =>
  new DrizzleQueryError('insert into "jobs" …', [], Object.assign(new Error('refused'), { code }));

describe('toServiceError: a failed query', () => {
  it('is the caller’s 400 when Postgres could not store text it sent, and ours for other data errors', () => {
    for (const code of ['22P05', '22021'])
      expect(toServiceError(failedQuery(code)).code, code).toBe('invalid_request');
    for (const code of ['22003', '22012', '22P02'])
      expect(toServiceError(failedQuery(code)).code, code).toBe('internal');
  });

  it('is a conflict on a unique violation, an outage without SQLSTATE, and ours otherwise', () => {
    expect(toServiceError(failedQuery('23505')).code).toBe('conflict');
    expect(toServiceError(failedQuery(undefined)).code).toBe('service_unavailable');
    expect(toServiceError(failedQuery('42P01')).code).toBe('internal');
  });
});

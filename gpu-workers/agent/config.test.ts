import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from './config.ts';

const base = {
  CONTROL_PLANE_URL: 'https://api.aicloud.dev',
  WORKER_TOKEN: `wt_${'a'.repeat(32)}`,
  REPLICA_ID: 'rep_1',
  ENGINE: 'vllm',
};

describe('worker agent settings', () => {
  it('needs a model server, unless the development engine is asked for explicitly', () => {
    expect(() => parseAgentConfig(base)).toThrow('ENGINE_URL is required');
    expect(parseAgentConfig({ ...base, DEV_ENGINE: 'true' }).DEV_ENGINE).toBe(true);
    expect(parseAgentConfig({ ...base, ENGINE_URL: 'http://127.0.0.1:8000' }).ENGINE_URL).toBe(
      'http://127.0.0.1:8000',
    );
  });

  it('names malformed settings', () => {
    expect(() => parseAgentConfig({ ...base, WORKER_TOKEN: 'nope', DEV_ENGINE: 'true' })).toThrow(
      'WORKER_TOKEN must be the replica token',
    );
    expect(() => parseAgentConfig({ ...base, CONCURRENCY: '0', DEV_ENGINE: 'true' })).toThrow('CONCURRENCY');
  });

  it('drains for 30 s unless told otherwise, never past the container stop timeout, and never for an empty value', () => {
    const dev = { ...base, DEV_ENGINE: 'true' };
    expect(parseAgentConfig(dev).DRAIN_TIMEOUT_MS).toBe(30_000);
    expect(parseAgentConfig({ ...dev, DRAIN_TIMEOUT_MS: '5000' }).DRAIN_TIMEOUT_MS).toBe(5_000);
    expect(() => parseAgentConfig({ ...dev, DRAIN_TIMEOUT_MS: '' })).toThrow('DRAIN_TIMEOUT_MS');
    expect(() => parseAgentConfig({ ...dev, DRAIN_TIMEOUT_MS: ' ' })).toThrow('DRAIN_TIMEOUT_MS');
    expect(() => parseAgentConfig({ ...dev, DRAIN_TIMEOUT_MS: '600000' })).toThrow('at most 90000');
  });
});

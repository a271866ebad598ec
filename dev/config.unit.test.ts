import { describe, expect, it } from 'vitest';
import { parseDevConfig } from './config.ts';

describe('npm run dev settings', () => {
  it('has a default for everything', () => {
    expect(parseDevConfig({})).toMatchObject({
      EDGE_PORT: 8787,
      POSTGRES_PORT: 5488,
      QSTASH_PORT: 8080,
      DATA_DIR: '.data',
      LOG_LEVEL: 'info',
      EDGE_RUNTIME: 'workerd',
    });
    expect(parseDevConfig({ EDGE_RUNTIME: 'node' }).EDGE_RUNTIME).toBe('node');
    expect(parseDevConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('treats empty variables as unset and reads numbers from strings', () => {
    const config = parseDevConfig({ EDGE_PORT: '9000', DATABASE_URL: '', REDIS_URL: '' });
    expect(config.EDGE_PORT).toBe(9000);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names every malformed variable and what it should look like', () => {
    const parse = () =>
      parseDevConfig({
        EDGE_PORT: '70000',
        QSTASH_PORT: 'eighty',
        DATABASE_URL: 'mysql://localhost/app',
        REDIS_URL: 'localhost:6379',
        LOG_LEVEL: 'verbose',
        EDGE_RUNTIME: 'bun',
      });
    expect(parse).toThrow(/^Invalid development settings:/);
    expect(parse).toThrow('EDGE_PORT must be a port number (1-65535)');
    expect(parse).toThrow('QSTASH_PORT must be a port number (1-65535)');
    expect(parse).toThrow('DATABASE_URL must look like postgres://user:password@host:5432/database');
    expect(parse).toThrow('REDIS_URL must look like redis://host:6379');
    expect(parse).toThrow('LOG_LEVEL');
    expect(parse).toThrow('EDGE_RUNTIME');
  });
});

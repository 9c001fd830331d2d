import { describe, expect, it } from '@jest/globals';
import { validateEnv } from './env.validation.js';
import { parseNodes, redisConfig } from './redis.config.js';

describe('parseNodes', () => {
  it('is empty when unset or empty', () => {
    expect(parseNodes(undefined)).toEqual([]);
    expect(parseNodes('')).toEqual([]);
  });

  it('reads one node', () => {
    expect(parseNodes('redis-0.internal:6379')).toEqual([{ host: 'redis-0.internal', port: 6379 }]);
  });

  it('reads several nodes in order, with numeric ports', () => {
    const nodes = parseNodes('127.0.0.1:7000,127.0.0.1:7001,10.0.0.5:7002');
    expect(nodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
      { host: '10.0.0.5', port: 7002 },
    ]);
    for (const { port } of nodes) expect(typeof port).toBe('number');
  });

  it('ignores whitespace around nodes', () => {
    expect(parseNodes(' a:7000 , b:7001 ')).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
  });

  it('splits host and port at the last colon', () => {
    expect(parseNodes('::1:7000')).toEqual([{ host: '::1', port: 7000 }]);
  });
});

describe('redisConfig', () => {
  it('has no cluster nodes by default', () => {
    expect(redisConfig.settings(validateEnv({}))).toEqual({
      url: undefined,
      clusterNodes: [],
      keyPrefix: 'latchkey:',
    });
  });

  it('reads the URL, the cluster nodes and the key prefix from the environment', () => {
    const env = validateEnv({
      SESSION_STORE: 'redis',
      REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001',
      REDIS_KEY_PREFIX: 'staging:',
    });
    expect(redisConfig.settings(env)).toEqual({
      url: undefined,
      clusterNodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
      keyPrefix: 'staging:',
    });
    const single = validateEnv({ SESSION_STORE: 'redis', REDIS_URL: 'redis://cache:6379' });
    expect(redisConfig.settings(single)).toMatchObject({
      url: 'redis://cache:6379',
      clusterNodes: [],
    });
  });
});

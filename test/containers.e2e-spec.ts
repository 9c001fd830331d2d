import { describe, expect, it } from '@jest/globals';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Env, validateEnv } from '../src/config/env.validation.js';

// No Docker engine runs in CI: these check what can be checked without building or running images.
const read = (path: string) => readFileSync(path, 'utf8');
const settings = new Set(
  getMetadataStorage()
    .getTargetValidationMetadatas(Env, '', true, false)
    .map((metadata) => metadata.propertyName),
);
const instructions = (dockerfile: string) =>
  dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^[A-Z]+ /.test(line));

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'));

  it('parses, with the app, PostgreSQL, Redis and a mail catcher', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'db', 'mailpit', 'redis']);
  });

  it('sets only variables the app’s configuration knows, and valid values for them', () => {
    const environment: Record<string, string> = compose.services.app.environment;
    expect(Object.keys(environment).filter((name) => !settings.has(name))).toEqual([]);
    expect(settings.has('DATABASE_URL')).toBe(true);
    expect(environment).toMatchObject({ NODE_ENV: 'production', SESSION_STORE: 'redis' });
    expect(() => validateEnv(environment)).not.toThrow();
  });
});

describe('Dockerfile', () => {
  const dockerfile = instructions(read('Dockerfile'));
  const last = (keyword: string) =>
    dockerfile.filter((line) => line.startsWith(`${keyword} `)).at(-1);

  it('starts the app with the command of npm run start:prod', () => {
    const { scripts } = JSON.parse(read('package.json'));
    const command = JSON.parse(last('CMD')!.slice('CMD '.length)) as string[];
    // npm's script execs node so that signals reach it; the image runs node directly.
    expect(`exec ${command.join(' ')}`).toBe(scripts['start:prod']);
  });

  it('is multi-stage, runs as a non-root user, and checks /health/ready', () => {
    expect(dockerfile.filter((line) => line.startsWith('FROM ')).length).toBeGreaterThan(1);
    expect(last('USER')).toBe('USER node');
    expect(last('HEALTHCHECK')).toContain('/health/ready');
    expect(dockerfile).toContain('RUN npm ci --omit=dev --omit=optional');
  });

  it('limits the V8 heap in NODE_OPTIONS (the soak runs the app with the same)', () => {
    const nodeOptions = dockerfile.filter((line) => line.startsWith('ENV NODE_OPTIONS='));
    expect(nodeOptions).toEqual([
      expect.stringMatching(
        /^ENV NODE_OPTIONS="--max-old-space-size=\d+ --max-semi-space-size=\d+"$/,
      ),
    ]);
  });
});

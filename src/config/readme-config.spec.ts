import { describe, expect, it } from '@jest/globals';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { Env, validateEnv } from './env.validation.js';

/** Variables the README documents that the app does not read: the tests' own. */
const TEST_ONLY = ['TEST_DATABASE_URL'];

/** The rows of README's "Configuration" table of variables: name, default cell, meaning. */
function readmeRows(): { name: string; defaultCell: string; meaning: string }[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'));
  const table = section.slice(
    section.indexOf('| variable'),
    section.indexOf('\n\n', section.indexOf('| variable')),
  );
  return table
    .split('\n')
    .slice(2)
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .map(([, name, defaultCell, meaning]) => ({
      name: name.replace(/^`|`$/g, ''),
      defaultCell,
      meaning,
    }));
}

const settings = [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(Env, '', true, false)
      .map((metadata) => metadata.propertyName),
  ),
];
const defaults = validateEnv({}) as unknown as Record<string, unknown>;

describe("README's configuration table", () => {
  const rows = readmeRows();
  const documented = rows.map((row) => row.name);

  it('has a row per validated setting', () => {
    expect(settings.length).toBeGreaterThan(10);
    expect(settings.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('documents nothing else, except the variables only tests read', () => {
    expect(documented.filter((name) => !settings.includes(name))).toEqual(TEST_ONLY);
    for (const name of TEST_ONLY) {
      expect(rows.find((row) => row.name === name)?.meaning).toMatch(/^tests only/);
    }
  });

  it('lists each variable once', () => {
    expect(new Set(documented).size).toBe(documented.length);
  });

  it.each(settings)('gives the default of %s', (name) => {
    const { defaultCell } = rows.find((row) => row.name === name) ?? { defaultCell: '' };
    if (defaultCell === 'unset') {
      expect(defaults[name]).toBeUndefined();
      return;
    }
    // One value in backticks, read the way the app reads the variable ("24h" is 86400 seconds).
    const value = /^`([^`]+)`$/.exec(defaultCell)?.[1];
    expect({ name, value }).toEqual({ name, value: expect.any(String) });
    expect(validateEnv({ [name]: value })[name as keyof Env]).toEqual(defaults[name]);
  });
});

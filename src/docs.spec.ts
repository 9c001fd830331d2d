import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

// The README and docs/ are read by people who have only this repository: nothing in them may send
// a reader elsewhere on disk, and every link they follow must arrive.
const read = (path: string) => readFileSync(path, 'utf8');
const docs = [
  'README.md',
  ...readdirSync('docs', { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.md'))
    .map((path) => join('docs', path)),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
const anchorsOf = (markdown: string) =>
  [...markdown.matchAll(/^#+ (.+)$/gm)].map(([, heading]) => anchor(heading));

describe.each(docs)('%s', (path) => {
  const text = read(path);

  it('refers to nothing outside the repository', () => {
    for (const outside of [
      /\.\.\/shared/,
      /\bshared\//,
      /\bAPI\.md\b/,
      /beside this repository/i,
      /(^|[\s(`'"])\/(work|tmp|home|opt|srv|Users)\//m,
    ]) {
      expect({ path, match: outside.exec(text)?.[0] }).toEqual({ path, match: undefined });
    }
  });

  it('links only to files of the repository that exist, and to headings they have', () => {
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target);
    for (const link of links.filter((target) => !/^[a-z][a-z+.-]*:/i.test(target))) {
      const [file, fragment] = link.split('#');
      const target = file ? resolve(dirname(path), file) : resolve(path);
      const inside = relative(process.cwd(), target);
      expect({ link, inside: !inside.startsWith('..') && !isAbsolute(inside) }).toEqual({
        link,
        inside: true,
      });
      expect({ link, exists: existsSync(target) }).toEqual({ link, exists: true });
      if (fragment) {
        expect({ link, anchors: anchorsOf(read(target)) }).toEqual({
          link,
          anchors: expect.arrayContaining([fragment]),
        });
      }
    }
  });
});

describe('the README', () => {
  it('points to the HTTP contract in docs/ and to the served OpenAPI document', () => {
    const readme = read('README.md');
    expect(readme).toContain('](docs/api.md)');
    expect(readme).toContain('`/docs`');
  });

  it('names the Node.js lines that CI runs, as .nvmrc, engines and the Dockerfile do', () => {
    const majors = /NODE_MAJORS:-"([\d ]+)"/.exec(read('.ci/run'))?.[1].split(' ') ?? [];
    expect(majors.length).toBeGreaterThan(1);
    const newest = String(Math.max(...majors.map(Number)));
    expect(read('.nvmrc').trim()).toBe(newest);
    expect(read('Dockerfile')).toContain(`ARG NODE_IMAGE=node:${newest}-`);
    const { engines } = JSON.parse(read('package.json'));
    for (const major of majors) expect(engines.node).toMatch(new RegExp(`(\\^|>=)${major}\\.`));
    expect(read('README.md')).toContain(`Node.js ${majors.join(' or ')}`);
  });
});

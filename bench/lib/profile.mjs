// Summarises a V8 .cpuprofile (from node --cpu-prof): where the time went, by self time of
// functions and by package (self, and inclusive: any sample with the package on its stack).
import { readFileSync } from 'node:fs';

const SPECIAL = new Set(['(idle)', '(garbage collector)', '(program)', '(root)']);

/** The package or part of Node a frame belongs to. */
function area({ url, functionName }) {
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(native)';
  const modules = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (modules) return modules[1];
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0];
  const app = url.match(/dist\/src\/([^/]+)/);
  if (app) return `latchkey:${app[1]}`;
  return url.split('/').slice(-1)[0];
}

const percentages = (times, total, top) =>
  [...times.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, time]) => ({ name, percent: Math.round((1000 * time) / total) / 10 }));

/**
 * `window`: the part to count, in microseconds of the monotonic clock (process.hrtime), which is
 * the clock of the profile's timestamps; start-up and set-up are left out that way.
 */
export function summariseProfile(path, window = { from: -Infinity, to: Infinity }, top = 15) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);

  const self = new Map();
  const selfByArea = new Map();
  const inclusiveByArea = new Map();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const time = profile.timeDeltas[index] ?? 0;
    at += time;
    if (at < window.from || at > window.to) return;
    total += time;
    const { callFrame } = nodes.get(id);
    const name = SPECIAL.has(callFrame.functionName)
      ? callFrame.functionName
      : `${callFrame.functionName || '(anonymous)'} ${area(callFrame)}`;
    self.set(name, (self.get(name) ?? 0) + time);
    const own = area(callFrame);
    selfByArea.set(own, (selfByArea.get(own) ?? 0) + time);
    const onStack = new Set();
    for (let up = id; up !== undefined; up = parents.get(up))
      onStack.add(area(nodes.get(up).callFrame));
    onStack.delete('(root)');
    for (const name of onStack) inclusiveByArea.set(name, (inclusiveByArea.get(name) ?? 0) + time);
  });
  return {
    seconds: Math.round(total / 1e5) / 10,
    selfByArea: percentages(selfByArea, total, top),
    inclusiveByArea: percentages(inclusiveByArea, total, top),
    selfByFunction: percentages(self, total, top),
  };
}

/**
 * Summarises the CPU profiles written by `BENCH_CPU_PROF=1 pnpm bench` (of each job's timed
 * window, with its operation count, so in µs per operation too): self time by owner (which package,
 * Node internals, GC, idle) and the hottest functions, so that a missed target can be traced to
 * code that is ours or not.
 *
 * Usage: pnpm --filter @lock/bench exec tsx profile-summary.ts results/profiles/<file>.cpuprofile [...]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  /** Operations done in a timed-window profile (child.ts); absent for a whole-process one. */
  readonly operations?: number;
}

/** Who a function belongs to, from its script URL. */
function owner(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'native';
  if (url.startsWith('node:')) return 'node';
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pnpm) return pnpm[1] ?? 'package';
  const local = /\/packages\/([^/]+)\//.exec(url);
  if (local) return `@lock/${local[1]}`;
  if (url.includes('/.cache/lock-bench/')) return 'bench';
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return plain?.[1] ?? url;
}

function summarise(file: string): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const nameOf = (frame: CallFrame) =>
    `${frame.functionName || '(anonymous)'} ${owner(frame)}:${frame.lineNumber + 1}`;

  const owners = new Map<string, number>();
  const ours = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfTime) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    total += micros;
    const who = owner(frame);
    owners.set(who, (owners.get(who) ?? 0) + micros);
    functions.set(nameOf(frame), (functions.get(nameOf(frame)) ?? 0) + micros);
    if (who.startsWith('@lock/')) ours.set(nameOf(frame), (ours.get(nameOf(frame)) ?? 0) + micros);
    // Inclusive time: every distinct function on the sampled stack.
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const ancestor = byId.get(at)?.callFrame;
      if (ancestor !== undefined && ancestor.url !== '') onStack.add(nameOf(ancestor));
    }
    for (const name of onStack) inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
  }
  const share = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)}%`;
  const operations = profile.operations;
  // Per operation: the profile's time over the operations of its window (idle included, so that
  // the non-idle lines add up to the CPU the operation cost on the main thread).
  const perOperation = (micros: number) =>
    operations === undefined || operations === 0
      ? ''
      : `  ${(micros / operations).toFixed(2).padStart(7)} µs/op`;
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort(([, a], [, b]) => b - a)
      .slice(0, n)
      .map(
        ([name, micros]) =>
          `  ${share(micros)}  ${(micros / 1000).toFixed(0).padStart(6)} ms${perOperation(micros)}  ${name}`,
      );
  const busy = total - (owners.get('(idle)') ?? 0);
  return [
    `${basename(file)}: ${(total / 1000).toFixed(0)} ms sampled` +
      (operations === undefined
        ? ' (whole process)'
        : `, the timed window: ${operations} operations, ${(busy / Math.max(1, operations)).toFixed(1)} µs busy per operation`),
    'by owner:',
    ...top(owners, 12),
    'hottest functions (self time):',
    ...top(functions, 25),
    'hottest functions (inclusive time, JavaScript only):',
    ...top(inclusive, 25),
    "@lock's own functions (self time):",
    ...top(ours, 15),
  ].join('\n');
}

for (const file of process.argv.slice(2)) console.log(`${summarise(file)}\n`);

import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { lockedWrapper } from '../src/handle/decorators.js';
import { expectRefused } from './scripted-runner.js';

// How `locked()` tells its three uses apart by their arguments, with a recording stand-in for the
// lock; the same decorators run against Redis in both modes in packages/consumers.
function recordingWrapper() {
  const wrapped: { fn: unknown; defaultName: string }[] = [];
  const decorate = lockedWrapper<false>((fn, defaultName) => {
    wrapped.push({ fn, defaultName });
    return async function lockedFunction(this: unknown, ...args: unknown[]) {
      return fn.apply(this, args);
    };
  });
  return { decorate, wrapped };
}

class Jobs {
  readonly label = 'jobs';
  async rebuildIndex(suffix: string): Promise<string> {
    return this.label + suffix;
  }
  static async compact(): Promise<string> {
    return 'compacted';
  }
}

describe('locked() wrapper and decorators', () => {
  it('as a plain wrapper: named after the function', async () => {
    const { decorate, wrapped } = recordingWrapper();
    async function dailyReport(day: string): Promise<string> {
      return `report for ${day}`;
    }
    const run = decorate(dailyReport);
    expect(await run('monday')).toBe('report for monday');
    expect(wrapped).toEqual([{ fn: dailyReport, defaultName: 'dailyReport' }]);
  });

  it('as a legacy method decorator: replaces the descriptor value, keeps its other fields', async () => {
    const { decorate, wrapped } = recordingWrapper();
    const descriptor = Object.getOwnPropertyDescriptor(Jobs.prototype, 'rebuildIndex');
    if (descriptor === undefined) throw new Error('no descriptor');
    const replaced = decorate(Jobs.prototype, 'rebuildIndex', descriptor);
    expect(wrapped).toEqual([{ fn: Jobs.prototype.rebuildIndex, defaultName: 'rebuildIndex' }]);
    expect(replaced.value).not.toBe(descriptor.value);
    expect({ ...replaced, value: undefined }).toEqual({ ...descriptor, value: undefined });
    expect(await replaced.value?.call(new Jobs(), '!')).toBe('jobs!');
  });

  it('as a legacy decorator of a static method, whose target is the class itself', async () => {
    const { decorate, wrapped } = recordingWrapper();
    const descriptor = Object.getOwnPropertyDescriptor(Jobs, 'compact');
    if (descriptor === undefined) throw new Error('no descriptor');
    const replaced = decorate(Jobs, 'compact', descriptor);
    expect(wrapped[0]?.defaultName).toBe('compact');
    expect(await replaced.value?.call(Jobs)).toBe('compacted');
  });

  it('as a standard method decorator: named after the method from the context', async () => {
    const { decorate, wrapped } = recordingWrapper();
    const context = { kind: 'method', name: 'rebuildIndex' } as ClassMethodDecoratorContext<
      Jobs,
      Jobs['rebuildIndex']
    >;
    const replaced = decorate(Jobs.prototype.rebuildIndex, context);
    expect(wrapped[0]?.defaultName).toBe('rebuildIndex');
    expect(await replaced.call(new Jobs(), '?')).toBe('jobs?');
  });

  it('refuses what is not a method, in either mode', () => {
    const { decorate } = recordingWrapper();
    const call = decorate as (...args: unknown[]) => unknown;
    const getter = { get: () => 1, enumerable: false, configurable: true };
    expectRefused(() => call({}, 'size', getter), 'fn');
    expectRefused(() => call(() => 1, { kind: 'getter', name: 'size' }), 'fn');
    expectRefused(() => call(undefined, { kind: 'field', name: 'count' }), 'fn');
    expectRefused(() => call('not a function'), 'fn');
  });
});

describe('locked() decorator types', () => {
  const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

  /** Type-checks the fixtures with or without `experimentalDecorators`: `file:line` per error. */
  function typeErrors(experimentalDecorators: boolean): string[] {
    const files = ['decorated.ts', 'misuse.ts'].map((name) => fixtures + name);
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts', 'lib.decorators.d.ts'],
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: ['node'],
      experimentalDecorators,
    });
    return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const line = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line ?? -1;
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
      return `${diagnostic.file?.fileName.split('/').pop()}:${line + 1} ${message}`;
    });
  }

  // misuse.ts expects an error at each decorator: where the method's declared type would be
  // wrong after decoration (a skip that resolves undefined, a synchronous method made async).
  it.each([
    ['standard decorators', false],
    ['experimentalDecorators', true],
  ])('%s: every use type-checks, and the misuses are refused', (_mode, experimentalDecorators) => {
    expect(typeErrors(experimentalDecorators)).toEqual([]);
  });
});

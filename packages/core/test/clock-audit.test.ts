import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Correctness never depends on the client's wall clock. Validity deadlines use the monotonic
// clock (clock.ts); expiry is decided by Redis. This audit keeps it that way.
describe('clock audit', () => {
  it('no core source reads the wall clock', () => {
    const sourceDir = new URL('../src/', import.meta.url);
    const offenders = readdirSync(sourceDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /Date\.now\(|new Date\(/.test(readFileSync(new URL(file, sourceDir), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

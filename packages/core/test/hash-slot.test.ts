import { describe, expect, it } from 'vitest';
import { crc16, HASH_SLOTS, hashedPart, hashSlot } from '../src/hash-slot.js';
import { lockKey } from '../src/keys.js';

// Each expected slot is what `CLUSTER KEYSLOT <key>` answered on a real cluster-enabled
// redis-server 7.0; the CRC16 check value of "123456789" is 0x31C3 (CRC-16/XMODEM).
const KNOWN_SLOTS: ReadonlyArray<readonly [key: string, slot: number]> = [
  ['123456789', 12739],
  ['foo', 12182],
  ['bar', 5061],
  ['hello', 866],
  ['a', 15495],
  ['b', 3300],
  ['{user1000}.following', 3443],
  ['{user1000}.followers', 3443],
  ['lock:{a}', 15495],
  ['lock:{{order:7}:stock}', 15939],
  ['lock:{{order:7}:payment}', 15939],
  ['{order:7', 15939],
  ['x{}y', 16116],
  ['abc{', 3048],
  ['{}', 15257],
  ['€uro', 997],
  ['lock:{}x}', 3284],
  ['', 0],
];

describe('Redis Cluster hash slots', () => {
  it('CRC16/XMODEM gives the standard check value', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x31c3);
  });

  it.each(KNOWN_SLOTS)('hashSlot(%j) is %i, as CLUSTER KEYSLOT says', (key, slot) => {
    expect(hashSlot(key)).toBe(slot);
    expect(slot).toBeLessThan(HASH_SLOTS);
  });

  it('hashes only a non-empty hash tag: the first "{" up to the first "}" after it', () => {
    expect(hashedPart('lock:{a}')).toBe('a');
    expect(hashedPart('lock:{{order:7}:stock}')).toBe('{order:7');
    expect(hashedPart('x{}y')).toBe('x{}y');
    expect(hashedPart('abc{')).toBe('abc{');
    expect(hashedPart('plain')).toBe('plain');
  });

  it('names that start with the same {tag} give keys in one slot; plain names need not', () => {
    const slot = (name: string) => hashSlot(lockKey('lock:', name));
    expect(slot('{order:7}:stock')).toBe(slot('{order:7}:payment'));
    expect(slot('{order:7}:stock')).toBe(slot('{order:7}'));
    expect(slot('a')).not.toBe(slot('b'));
  });
});

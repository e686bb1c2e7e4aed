/**
 * Redis Cluster hash slots, computed in core so that a call whose keys cannot run in one script
 * on a Cluster is refused before anything is sent. The rule is Redis's own: the slot of a key is
 * CRC16 (XMODEM) of its UTF-8 bytes modulo 16 384, where a key holding a `{…}` with at least one
 * character inside hashes only that part (the first `{`, up to the first `}` after it).
 */

/** How many hash slots a Redis Cluster has. */
export const HASH_SLOTS = 16_384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

const utf8 = new TextEncoder();

/** CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys with. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number)) & 0xffff;
  return crc;
}

/** The part of `key` that Redis Cluster hashes: its hash tag when it has a non-empty one. */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? key : key.slice(open + 1, close);
}

/** The Redis Cluster hash slot of `key`, as `CLUSTER KEYSLOT` reports it. */
export function hashSlot(key: string): number {
  return crc16(utf8.encode(hashedPart(key))) % HASH_SLOTS;
}

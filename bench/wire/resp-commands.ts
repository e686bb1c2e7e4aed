/**
 * Finds the commands in a stream of RESP requests (what a client writes to Redis), chunk by
 * chunk, without buffering argument payloads: each command is a `*N` array of bulk strings whose
 * first element is the command name. Inline commands (a plain line) are recognised too.
 */
const ASTERISK = 0x2a;
const DOLLAR = 0x24;

export class RespCommandReader {
  readonly #onCommand: (name: string) => void;
  #pending: Buffer = Buffer.alloc(0);
  /** Bytes of a bulk payload (and its CRLF) still to skip. */
  #skip = 0;
  /** The next bulk is the command name. */
  #expectName = false;
  /** Length of the command name bulk being read, or -1. */
  #nameLength = -1;

  constructor(onCommand: (name: string) => void) {
    this.#onCommand = onCommand;
  }

  push(chunk: Buffer): void {
    const buffer = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let at = 0;
    while (at < buffer.length) {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, buffer.length - at);
        this.#skip -= skipped;
        at += skipped;
        continue;
      }
      if (this.#nameLength >= 0) {
        if (buffer.length - at < this.#nameLength + 2) break;
        this.#onCommand(buffer.toString('latin1', at, at + this.#nameLength).toUpperCase());
        at += this.#nameLength + 2;
        this.#nameLength = -1;
        continue;
      }
      const lineEnd = buffer.indexOf('\r\n', at, 'latin1');
      if (lineEnd === -1) break;
      const type = buffer[at];
      if (type === ASTERISK) {
        this.#expectName = true;
      } else if (type === DOLLAR) {
        const length = Number(buffer.toString('latin1', at + 1, lineEnd));
        if (this.#expectName) {
          this.#expectName = false;
          this.#nameLength = length;
        } else {
          this.#skip = length + 2;
        }
      } else {
        const name = buffer.toString('latin1', at, lineEnd).trim().split(/\s+/)[0];
        if (name) this.#onCommand(name.toUpperCase());
      }
      at = lineEnd + 2;
    }
    this.#pending = at >= buffer.length ? Buffer.alloc(0) : Buffer.from(buffer.subarray(at));
  }
}

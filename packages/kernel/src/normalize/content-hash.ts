import { xxhash64 } from './xxhash64.js';

/**
 * Characters (UTF-16 units) hashed within one window after which the WebAssembly xxhash is loaded: a
 * seed or a burst (~1,000 objects of ~1 KB), never the changes of a small install (ADR 0046).
 */
const BURST_CHARS = 1_000_000;
const BURST_WINDOW_MS = 10_000;

let native: ((text: string) => string) | undefined;
let loading = false;
let windowStart = 0;
let windowChars = 0;

/**
 * xxhash64 of a string's UTF-8 bytes, as 16 hex digits. The same value from either implementation:
 * plain JavaScript until the process hashes in bulk, then xxhash-wasm (~13x faster per byte), loaded
 * in the background the first time it does.
 */
export function contentHash(text: string): string {
  if (native) return native(text);
  if (!loading) noteVolume(text.length);
  return xxhash64(text);
}

function noteVolume(chars: number): void {
  const now = Date.now();
  if (now - windowStart > BURST_WINDOW_MS) {
    windowStart = now;
    windowChars = 0;
  }
  windowChars += chars;
  if (windowChars < BURST_CHARS) return;
  loading = true;
  // A module that cannot load leaves the JavaScript version in use: the hashes are the same.
  import('xxhash-wasm')
    .then(async (module) => {
      native = (await module.default()).h64ToString;
    })
    .catch(() => undefined);
}

/** Which implementation hashes now (for tests). */
export function contentHashImplementation(): 'javascript' | 'wasm' {
  return native ? 'wasm' : 'javascript';
}

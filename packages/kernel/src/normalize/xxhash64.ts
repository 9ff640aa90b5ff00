/**
 * xxHash64 (seed 0) of a string's UTF-8 bytes, in plain JavaScript (ADR 0046).
 *
 * Each 64-bit value is held as two unsigned 32-bit halves in the module's registers below (`hi`,
 * `lo`), and the UTF-8 bytes go into one reused buffer, so a hash allocates nothing but its result.
 * A WebAssembly module does the arithmetic natively but brings V8's WebAssembly compiler into every
 * process, the smallest install included.
 */

// The five primes of the specification, split into high and low halves.
const P1_HI = 0x9e3779b1;
const P1_LO = 0x85ebca87;
const P2_HI = 0xc2b2ae3d;
const P2_LO = 0x27d4eb4f;
const P3_HI = 0x165667b1;
const P3_LO = 0x9e3779f9;
const P4_HI = 0x85ebca77;
const P4_LO = 0xc2b2ae63;
const P5_HI = 0x27d4eb2f;
const P5_LO = 0x165667c5;

/** The value being worked on; every step below reads and writes these two. */
let hi = 0;
let lo = 0;

/** (hi, lo) *= (bHi, bLo), modulo 2^64. */
function multiply(bHi: number, bLo: number): void {
  // lo * bLo needs all 64 bits of its product: 16-bit pieces keep each partial product exact.
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const low = a0 * b0;
  const cross = (low >>> 16) + ((a1 * b0) & 0xffff) + a0 * b1;
  const carry = a1 * b1 + ((a1 * b0) >>> 16) + Math.floor(cross / 0x10000);
  hi = (carry + Math.imul(hi, bLo) + Math.imul(lo, bHi)) >>> 0;
  lo = ((cross << 16) | (low & 0xffff)) >>> 0;
}

/** (hi, lo) += (bHi, bLo), modulo 2^64. */
function add(bHi: number, bLo: number): void {
  const sum = lo + bLo;
  lo = sum >>> 0;
  hi = (hi + bHi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotates (hi, lo) left by `r` bits, 0 < r < 32. */
function rotateLeft(r: number): void {
  const h = hi;
  hi = ((h << r) | (lo >>> (32 - r))) >>> 0;
  lo = ((lo << r) | (h >>> (32 - r))) >>> 0;
}

/** The specification's round: acc = rotl(acc + input * P2, 31) * P1, on (hi, lo) as acc. */
function round(inHi: number, inLo: number): void {
  const accHi = hi;
  const accLo = lo;
  hi = inHi;
  lo = inLo;
  multiply(P2_HI, P2_LO);
  add(accHi, accLo);
  rotateLeft(31);
  multiply(P1_HI, P1_LO);
}

/** (hi, lo) += rotl(v, r). */
function addRotated(vHi: number, vLo: number, r: number): void {
  const sumHi = hi;
  const sumLo = lo;
  hi = vHi;
  lo = vLo;
  rotateLeft(r);
  add(sumHi, sumLo);
}

/** The specification's merge of an accumulator v into (hi, lo) as h: h = (h ^ round(0, v)) * P1 + P4. */
function mergeAccumulator(vHi: number, vLo: number): void {
  const hHi = hi;
  const hLo = lo;
  hi = 0;
  lo = 0;
  round(vHi, vLo);
  hi = (hi ^ hHi) >>> 0;
  lo = (lo ^ hLo) >>> 0;
  multiply(P1_HI, P1_LO);
  add(P4_HI, P4_LO);
}

const SEED_ACCUMULATORS = Uint32Array.of(0x60ea27ee, 0xadc0b5d6, P2_HI, P2_LO, 0, 0, 0x61c8864e, 0x7a143579);
const accumulators = new Uint32Array(8);
/** One half of an accumulator: its high half at 2k, its low half at 2k + 1. */
const accumulator = (i: number): number => accumulators[i] as number;
let bytes = new Uint8Array(4096);
const encoder = new TextEncoder();

function u32(at: number): number {
  return (bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | (((bytes[at + 3] as number) << 24) >>> 0);
}

/** xxHash64 with seed 0 of `text` encoded as UTF-8 (lone surrogates as U+FFFD), as 16 hex digits. */
export function xxhash64(text: string): string {
  // At most three UTF-8 bytes per UTF-16 unit; the buffer is kept and grows to the largest text seen.
  if (bytes.length < text.length * 3) bytes = new Uint8Array(Math.max(text.length * 3, bytes.length * 2));
  const length = encoder.encodeInto(text, bytes).written;
  let at = 0;
  let hHi: number;
  let hLo: number;
  if (length >= 32) {
    // Four accumulators, seed 0: P1 + P2, P2, 0, -P1 (high and low halves, one after the other).
    accumulators.set(SEED_ACCUMULATORS);
    const limit = length - 32;
    do {
      for (let lane = 0; lane < 8; lane += 2) {
        hi = accumulator(lane);
        lo = accumulator(lane + 1);
        round(u32(at + 4), u32(at));
        accumulators[lane] = hi;
        accumulators[lane + 1] = lo;
        at += 8;
      }
    } while (at <= limit);
    // h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18), then each accumulator merged in.
    hi = accumulator(0);
    lo = accumulator(1);
    rotateLeft(1);
    addRotated(accumulator(2), accumulator(3), 7);
    addRotated(accumulator(4), accumulator(5), 12);
    addRotated(accumulator(6), accumulator(7), 18);
    for (let lane = 0; lane < 8; lane += 2) mergeAccumulator(accumulator(lane), accumulator(lane + 1));
  } else {
    hi = P5_HI;
    lo = P5_LO;
  }
  // h += length (a string's UTF-8 length is far below 2^53, so its high half is length / 2^32).
  add(Math.floor(length / 0x100000000), length >>> 0);
  while (at + 8 <= length) {
    hHi = hi;
    hLo = lo;
    hi = 0;
    lo = 0;
    round(u32(at + 4), u32(at));
    hi = (hi ^ hHi) >>> 0;
    lo = (lo ^ hLo) >>> 0;
    rotateLeft(27);
    multiply(P1_HI, P1_LO);
    add(P4_HI, P4_LO);
    at += 8;
  }
  if (at + 4 <= length) {
    // h ^= u32 * P1 (a 32-bit value times a 64-bit prime).
    hHi = hi;
    hLo = lo;
    hi = 0;
    lo = u32(at);
    multiply(P1_HI, P1_LO);
    hi = (hi ^ hHi) >>> 0;
    lo = (lo ^ hLo) >>> 0;
    rotateLeft(23);
    multiply(P2_HI, P2_LO);
    add(P3_HI, P3_LO);
    at += 4;
  }
  while (at < length) {
    hHi = hi;
    hLo = lo;
    hi = 0;
    lo = bytes[at] as number;
    multiply(P5_HI, P5_LO);
    hi = (hi ^ hHi) >>> 0;
    lo = (lo ^ hLo) >>> 0;
    rotateLeft(11);
    multiply(P1_HI, P1_LO);
    at++;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  lo = (lo ^ (hi >>> 1)) >>> 0;
  multiply(P2_HI, P2_LO);
  lo = (lo ^ ((lo >>> 29) | (hi << 3))) >>> 0;
  hi = (hi ^ (hi >>> 29)) >>> 0;
  multiply(P3_HI, P3_LO);
  lo = (lo ^ hi) >>> 0;
  return hex8(hi) + hex8(lo);
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

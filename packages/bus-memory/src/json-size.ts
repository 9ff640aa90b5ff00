/**
 * The UTF-8 byte length of `JSON.stringify(value)`, without making the text: the memory bus sizes
 * every message it carries (the size a durable bus would carry), and serializing each one only to
 * measure it was ~1 KB of garbage per object in a seed (ADR 0045). Plain data (objects with
 * Object's or no prototype, arrays, strings, numbers, booleans, null) is walked; anything else (a
 * Date or other `toJSON`, a class instance, a BigInt, a cycle, a value JSON has no text for at
 * the top) is measured by JSON.stringify itself, so the answer, or the error, is always its own.
 */
export function jsonByteLength(value: unknown): number {
  const size = plainSize(value, 0);
  return size >= 0 ? size : Buffer.byteLength(JSON.stringify(value) as string);
}

/** Deeper than this is measured by JSON.stringify (which also reports a cycle as its TypeError). */
const MAX_DEPTH = 200;
/** Not plain data: JSON.stringify decides. */
const OTHER = -1;
/** Strings JSON writes as they are, one byte per character: printable ASCII but `"` and `\`. */
const VERBATIM = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** The size of a plain value's JSON, OTHER when it is not plain data; `undefined` and functions are OTHER here (their place decides). */
function plainSize(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return stringSize(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object':
      if (value === null) return 4;
      if (depth >= MAX_DEPTH) return OTHER;
      if (Array.isArray(value)) return Object.getPrototypeOf(value) === Array.prototype ? arraySize(value, depth) : OTHER;
      return isPlainObject(value) ? objectSize(value as Record<string, unknown>, depth) : OTHER;
    default:
      return OTHER;
  }
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

function arraySize(list: readonly unknown[], depth: number): number {
  let size = 2 + (list.length > 0 ? list.length - 1 : 0);
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    // JSON writes null for what it has no text for in a list.
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') {
      size += 4;
      continue;
    }
    const itemSize = plainSize(item, depth + 1);
    if (itemSize < 0) return OTHER;
    size += itemSize;
  }
  return size;
}

function objectSize(map: Record<string, unknown>, depth: number): number {
  let size = 2;
  let members = 0;
  for (const key of Object.keys(map)) {
    const item = map[key];
    // JSON leaves out members it has no text for.
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    const itemSize = plainSize(item, depth + 1);
    if (itemSize < 0) return OTHER;
    size += stringSize(key) + 1 + itemSize;
    members++;
  }
  return size + (members > 0 ? members - 1 : 0);
}

/** A string's JSON text in UTF-8 bytes, quotes included (escapes as JSON.stringify writes them, lone surrogates as \uXXXX). */
function stringSize(text: string): number {
  if (VERBATIM.test(text)) return text.length + 2;
  let size = 2;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 || code === 0x5c) size += 2;
    else if (code < 0x20) size += code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
    else if (code < 0x80) size += 1;
    else if (code < 0x800) size += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        size += 4;
        i++;
      } else size += 6;
    } else if (code >= 0xdc00 && code <= 0xdfff) size += 6;
    else size += 3;
  }
  return size;
}

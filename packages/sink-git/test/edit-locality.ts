import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import { readDocuments } from '../src/yaml-syntax.js';

// How a reviewer checks an in-place edit: which values of an object changed, the part of the file
// each change may touch, and whether every other byte stayed where it was. Used by the unit test of
// the editor and by the cluster test that drives it through the real API server.

/** A deterministic generator (mulberry32), so a failure can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings that read differently when written carelessly (YAML 1.1 words, numbers, `: `, `#`, quotes, line breaks). */
export const AWKWARD_STRINGS = [
  'alpha',
  'yes',
  '123',
  'two words',
  'a: b',
  '#hash',
  "it's",
  '"quoted"',
  'x,y',
  '[x]',
  'on',
  '',
  'line one\nline two\n',
  'tail\n\n',
  'ünïcode',
  '0x10',
  '1.5',
  '-dash',
  'null',
];

export type Path = (string | number)[];

/** A part of a file's text: [start, end). */
export interface TextRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The paths where `after` differs from `before`: a changed scalar at its own path; a key added or
 * removed, or a list that changed length, at the path of the map or list that holds it.
 */
export function changedPaths(before: unknown, after: unknown, at: Path = []): Path[] {
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length) return [at];
    return before.flatMap((item, i) => changedPaths(item, after[i], [...at, i]));
  }
  if (isRecord(before) && isRecord(after)) {
    const keys = Object.keys(before);
    if (keys.length !== Object.keys(after).length || keys.some((key) => !Object.hasOwn(after, key))) return [at];
    return keys.flatMap((key) => changedPaths(before[key], after[key], [...at, key]));
  }
  return Object.is(before, after) ? [] : [at];
}

/**
 * The source range a change at `path` of document `documentIndex` may touch: its node (or the nearest
 * one that still exists) from the line of its key, with the comment lines that belong to it, through
 * the end of the line after it (a removed or added entry takes whole lines there). `aliased` when
 * the value is or holds an anchor or alias: a change may then show wherever the alias is.
 */
export function allowedRange(text: string, documentIndex: number, path: Path): TextRange & { aliased: boolean } {
  const document = readDocuments(text)[documentIndex];
  let node = document?.contents as Node | null | undefined;
  let aliased = false;
  for (const key of path) {
    if (!node) break;
    if (isAlias(node) || (node as { anchor?: string }).anchor) aliased = true;
    let child: Node | undefined;
    if (isMap(node)) child = node.items.find((pair) => isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(key))?.value as Node | undefined;
    else if (isSeq(node)) child = node.items[key as number] as Node | undefined;
    if (!child) break;
    node = child;
  }
  if (node && (isAlias(node) || (node as { anchor?: string }).anchor)) aliased = true;
  if (node && isCollection(node)) {
    // Anything under an anchored value may be seen through an alias elsewhere.
    const source = text.slice(node.range?.[0] ?? 0, node.range?.[1] ?? 0);
    if (/[&*][A-Za-z]/.test(source)) aliased = true;
  }
  const range = node?.range ?? [0, text.length, text.length];
  // From the line of its key: a block value replaced by a scalar moves up beside `key:`.
  const valueLine = text.lastIndexOf('\n', range[0] - 1) + 1;
  let start = valueLine;
  if (/^[ \t]*(- )?$/.test(text.slice(valueLine, range[0]))) {
    // Past comment lines that belong to the value, to the line of its key.
    do start = text.lastIndexOf('\n', start - 2) + 1;
    while (start > 0 && /^[ \t]*(#.*)?\r?\n/.test(text.slice(start)));
  }
  // Through the end of the line after the value: a removed or added entry takes whole lines there.
  const afterValue = text.indexOf('\n', Math.max(range[1], range[2]));
  const afterNext = afterValue < 0 ? text.length : text.indexOf('\n', afterValue + 1);
  return { start, end: afterNext < 0 ? text.length : afterNext + 1, aliased };
}

/** The part of `before` that differs from `after` (common head and tail removed). */
export function changedSpan(before: string, after: string): TextRange | undefined {
  if (before === after) return undefined;
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  return { start: head, end: before.length - tail };
}

/**
 * The first part of `before` outside `ranges` that is not in `after`, in order, where it was (the
 * ranges may each be replaced by anything); undefined when every such byte stayed.
 */
export function firstChangeOutside(before: string, after: string, ranges: readonly TextRange[]): { offset: number; text: string } | undefined {
  const merged: TextRange[] = [];
  for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
    const last = merged[merged.length - 1];
    if (last && range.start <= last.end) merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, range.end) };
    else merged.push(range);
  }
  // The kept parts: before the first range, between ranges, after the last.
  const kept: TextRange[] = [];
  let from = 0;
  for (const range of merged) {
    kept.push({ start: from, end: range.start });
    from = range.end;
  }
  kept.push({ start: from, end: before.length });
  if (kept.length === 1) return before === after ? undefined : { offset: 0, text: before };
  const first = kept[0] as TextRange;
  const last = kept[kept.length - 1] as TextRange;
  const head = before.slice(first.start, first.end);
  const tail = before.slice(last.start, last.end);
  if (!after.startsWith(head)) return { offset: first.start, text: head };
  if (!after.endsWith(tail) || after.length < head.length + tail.length) return { offset: last.start, text: tail };
  // Each part in between, leftmost first (leftmost matching finds an order-keeping match when one exists).
  let at = head.length;
  const limit = after.length - tail.length;
  for (const part of kept.slice(1, -1)) {
    const text = before.slice(part.start, part.end);
    const found = after.indexOf(text, at);
    if (found < 0 || found + text.length > limit) return { offset: part.start, text };
    at = found + text.length;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

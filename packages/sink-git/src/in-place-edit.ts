import { type Document, isAlias, isCollection, isMap, isPair, isScalar, isSeq, type Node, type Pair, type Scalar, visit, type YAMLMap, type YAMLSeq } from 'yaml';
import { blockScalarText, blockText, canonicalYaml, dataOf, flowText, isNonEmptyCollection, readDocuments, type ScalarStyle, sameData, scalarText, TO_JS } from './yaml-syntax.js';

/**
 * Changes one document of a YAML file to hold `desired`, touching only the values that differ: every
 * other byte (comments above and beside keys, key order, blank lines, quoting, flow style, anchors,
 * the other documents, CRLF line ends) stays as it was. Works on the original text by offsets from
 * the parser's source ranges: a changed scalar is rewritten in its own style where the value allows
 * (plain, single- or double-quoted, block), a removed key or list item loses its lines, a new key
 * goes after the map's last key at its indentation, a list changed in the middle keeps its equal
 * head and tail. The result is read back: when it does not hold `desired` exactly (a shape these
 * rules do not cover, such as `<<` merges being edited), the document's content is written whole in
 * the canonical rendering instead, its comments before and the other documents still kept.
 */
export function editDocument(text: string, index: number, desired: unknown, documents = readDocuments(text)): string {
  const document = documents[index];
  if (!document) throw new Error(`the file has no document ${index}`);
  if (sameData(dataOf(document), desired)) return text;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const original = { text, documents };
  try {
    const editor = new DocumentEditor(text, eol, document);
    editor.patch(document.contents, desired, { kind: 'root' });
    const edited = editor.result();
    if (holds(edited, index, desired, original)) return edited;
    // An alias whose anchor went with a removed value reads as nothing: written out, it holds.
    const resolved = withAliasesResolved(edited, index, desired);
    if (resolved !== edited && holds(resolved, index, desired, original)) return resolved;
  } catch (error) {
    if (!(error instanceof NotInPlace)) throw error;
  }
  const whole = replaceContents(text, document, desired, eol);
  if (holds(whole, index, desired, original)) return whole;
  throw new Error(`document ${index} could not be written to hold the object`);
}

/** The shape at hand is not edited in place: the caller writes the document whole. */
class NotInPlace extends Error {}

/**
 * True when `text` holds `desired` at `index` and every other document as `original` had it: byte
 * for byte, so a person's broken document beside the object (a syntax error they are still fixing)
 * neither stops the edit nor is touched by it.
 */
function holds(text: string, index: number, desired: unknown, original: { readonly text: string; readonly documents: readonly Document.Parsed[] }): boolean {
  const documents = readDocuments(text);
  if (documents.length !== original.documents.length) return false;
  const document = documents[index];
  if (!document || document.errors.length > 0 || !sameData(dataOf(document), desired)) return false;
  return documents.every((other, i) => {
    if (i === index) return true;
    const before = original.documents[i] as Document.Parsed;
    return other.errors.length === before.errors.length && text.slice(other.range[0], other.range[2]) === original.text.slice(before.range[0], before.range[2]);
  });
}

/**
 * The edited text with every alias whose anchor the edit removed (a person anchored a key that was
 * then deleted live, or a value replaced together with its `&anchor`) written out as the value it
 * stands for in `desired`, on one line where the alias was. The other aliases stay.
 */
function withAliasesResolved(text: string, index: number, desired: unknown): string {
  const document = readDocuments(text)[index];
  if (!document?.contents) return text;
  const defined = new Set<string>();
  const edits: { start: number; end: number; text: string }[] = [];
  visit(document, (_key, node, path) => {
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) defined.add(anchor);
    if (!isAlias(node) || defined.has(node.source) || !node.range) return;
    const at = pathOf([...path.slice(1), node]);
    if (!at) return;
    const value = valueAt(desired, at);
    if (value === undefined) return;
    edits.push({ start: node.range[0], end: node.range[1], text: isNonEmptyCollection(value) ? flowText(value) : scalarLine(value, 'PLAIN', true) });
  });
  let out = text;
  for (const edit of edits.reverse()) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

/** The data path of the last of `chain` (ancestors from the document's contents down to it); undefined for a key or a merge. */
function pathOf(chain: readonly unknown[]): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) out.push(parent.items.indexOf(child as Node));
    else if (isPair(parent)) {
      const key = isScalar(parent.key) ? parent.key.value : undefined;
      if (parent.value !== child || key === '<<' || key === undefined) return undefined;
      out.push(key === null ? '' : String(key));
    }
  }
  return out;
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}

/** The document's content replaced by the canonical rendering; what precedes it (comments, `---`) stays. */
function replaceContents(text: string, document: Document.Parsed, desired: unknown, eol: string): string {
  const contents = document.contents;
  const rendered = canonicalYaml(desired as Record<string, unknown>).replace(/\n/g, eol);
  if (!contents) {
    const end = document.range[1];
    const gap = end > 0 && text[end - 1] !== '\n' ? eol : '';
    return `${text.slice(0, end)}${gap}${rendered}${text.slice(end)}`;
  }
  const start = lineStartOf(text, contents.range[0]);
  const from = onlySpaceBefore(text, contents.range[0]) ? start : contents.range[0];
  return `${text.slice(0, from)}${rendered}${text.slice(lineAfter(text, contents))}`;
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly order: number;
}

/** Where a value sits: what an edit must keep around it. */
type Place = { readonly kind: 'root' } | { readonly kind: 'seq-item' } | { readonly kind: 'flow' } | { readonly kind: 'map-value'; readonly key: Node; readonly keyColumn: number };

class DocumentEditor {
  private readonly edits: Edit[] = [];
  /** Each anchor's value once this edit is done: an alias stays where it still means the desired value. */
  private readonly anchors = new Map<string, unknown>();

  constructor(
    private readonly src: string,
    private readonly eol: string,
    private readonly document: Document.Parsed,
  ) {}

  result(): string {
    // At one offset an insertion goes before a removal that starts there.
    const edits = [...this.edits].sort((a, b) => a.start - b.start || Number(a.end > a.start) - Number(b.end > b.start) || a.order - b.order);
    let out = '';
    let at = 0;
    for (const edit of edits) {
      if (edit.start < at) throw new NotInPlace('overlapping edits');
      out += this.src.slice(at, edit.start) + edit.text;
      at = edit.end;
    }
    return out + this.src.slice(at);
  }

  patch(node: Node | null | undefined, desired: unknown, place: Place): void {
    if (!node) throw new NotInPlace('a value without a node');
    if (isAlias(node)) {
      const meant = this.anchors.has(node.source) ? this.anchors.get(node.source) : node.resolve(this.document)?.toJS(this.document, TO_JS);
      if (!sameData(meant, desired)) this.replace(node, desired, place);
      return;
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) this.anchors.set(anchor, desired);
    if (sameData(node.toJS(this.document, TO_JS), desired)) return;
    if (isMap(node) && isPlainObject(desired)) this.patchMap(node, desired, place);
    else if (isSeq(node) && Array.isArray(desired)) this.patchSeq(node, desired, place);
    else this.replace(node, desired, place);
  }

  private patchMap(map: YAMLMap, desired: Record<string, unknown>, place: Place): void {
    const pairs = map.items as Pair[];
    const keys = pairs.map((pair) => keyText(pair));
    if (keys.some((key) => key === undefined || key === '<<') || new Set(keys).size !== keys.length) {
      this.replace(map, desired, place);
      return;
    }
    const wanted = Object.keys(desired).filter((key) => desired[key] !== undefined);
    const added = wanted.filter((key) => !keys.includes(key));
    const wants = (key: string | undefined) => key !== undefined && Object.hasOwn(desired, key) && desired[key] !== undefined;
    const keptCount = keys.filter(wants).length;
    if (map.flow) {
      if (keptCount === 0) {
        this.replace(map, desired, place);
        return;
      }
      pairs.forEach((pair, i) => {
        if (wants(keys[i])) this.patch(pair.value as Node, desired[keys[i] as string], { kind: 'flow' });
      });
      this.flowChanges(
        pairs.map((pair) => [rangeOf(pair.key as Node)[0], this.flowItemEnd(pair)]),
        keys.map((key) => !wants(key)),
        added.map((key) => `${scalarText(key, 'PLAIN', true)}: ${flowValue(desired[key])}`),
      );
      return;
    }
    if (keptCount === 0 && added.length === 0) {
      this.replace(map, desired, place);
      return;
    }
    const firstKey = pairs[0]?.key as Node;
    const inline = !onlySpaceBefore(this.src, rangeOf(firstKey)[0]);
    // A removed pair loses its own lines (its key, its value and the comments inside the value). The
    // comment lines above a removed key are a person's and are never removed with it: they stay
    // above the key that follows in this map, or at the end of the map, at their own column, in
    // their own document. Each pair is removed on its own, so the comments between the pairs of a
    // removed run stay too.
    for (let i = 0; i < pairs.length; i++) {
      const key = keys[i] as string;
      if (wants(key)) {
        const pair = pairs[i] as Pair;
        this.patch(pair.value as Node, desired[key], { kind: 'map-value', key: pair.key as Node, keyColumn: this.column(rangeOf(pair.key as Node)[0]) });
        continue;
      }
      let last = i;
      while (last + 1 < pairs.length && !wants(keys[last + 1])) last++;
      const keyStart = rangeOf(pairs[i]?.key as Node)[0];
      if (i === 0 && inline) {
        // `- a: 1` with `a` removed: the next kept key moves up beside the dash.
        const next = pairs[last + 1];
        if (!next) throw new NotInPlace('every key of an inline map removed');
        this.add(keyStart, rangeOf(next.key as Node)[0], '');
      } else {
        for (let removed = i; removed <= last; removed++) {
          const pair = pairs[removed] as Pair;
          this.add(lineStartOf(this.src, rangeOf(pair.key as Node)[0]), this.pairEnd(pair), '');
        }
      }
      i = last;
    }
    if (added.length === 0) return;
    const column = this.column(rangeOf(firstKey)[0]);
    const at = this.pairEnd(pairs[pairs.length - 1] as Pair);
    const lead = at > 0 && this.src[at - 1] !== '\n' ? this.eol : '';
    const text = added.map((key) => `${' '.repeat(column)}${this.entryText(key, desired[key], column)}`).join('');
    this.add(at, at, lead + text);
  }

  /** `key: value` plus line end, the value placed the way the kernel places it under a key at `column`. */
  private entryText(key: string, value: unknown, column: number): string {
    const name = scalarText(key);
    if (isNonEmptyCollection(value)) return `${name}:${this.eol}${' '.repeat(column + 2)}${blockText(value, column + 2, this.eol)}`;
    return `${name}: ${blockText(value, column + 2, this.eol)}`;
  }

  private patchSeq(seq: YAMLSeq, desired: unknown[], place: Place): void {
    const items = seq.items as Node[];
    if (seq.flow) {
      const common = Math.min(items.length, desired.length);
      if (common === 0) {
        this.replace(seq, desired, place);
        return;
      }
      for (let i = 0; i < common; i++) this.patch(items[i], desired[i], { kind: 'flow' });
      this.flowChanges(
        items.map((item) => [rangeOf(item)[0], rangeOf(item)[1]]),
        items.map((_, i) => i >= common),
        desired.slice(common).map(flowValue),
      );
      return;
    }
    if (desired.length === 0) {
      this.replace(seq, desired, place);
      return;
    }
    const current = items.map((item) => item.toJS(this.document, TO_JS));
    let head = 0;
    while (head < items.length && head < desired.length && sameData(current[head], desired[head]) && !isAlias(items[head])) head++;
    let tail = 0;
    while (tail < items.length - head && tail < desired.length - head && sameData(current[items.length - 1 - tail], desired[desired.length - 1 - tail]) && !isAlias(items[items.length - 1 - tail])) {
      tail++;
    }
    const oldEnd = items.length - tail;
    const newEnd = desired.length - tail;
    if (oldEnd - head === newEnd - head) {
      for (let i = head; i < oldEnd; i++) this.patch(items[i], desired[i], { kind: 'seq-item' });
      return;
    }
    const dashColumn = this.column(this.dashOf(items[0] as Node));
    // Each removed item loses its own lines; the comment lines above it stay, as for keys.
    for (let i = head; i < oldEnd; i++) {
      const dash = this.dashOf(items[i] as Node);
      if (!onlySpaceBefore(this.src, dash)) throw new NotInPlace('a list item that shares its line');
      this.add(lineStartOf(this.src, dash), lineAfter(this.src, items[i] as Node), '');
    }
    if (newEnd <= head) return;
    const next = items[oldEnd];
    const at = next ? lineStartOf(this.src, this.dashOf(next)) : lineAfter(this.src, items[items.length - 1] as Node);
    const lead = at > 0 && this.src[at - 1] !== '\n' ? this.eol : '';
    const text = desired
      .slice(head, newEnd)
      .map((value) => `${' '.repeat(dashColumn)}- ${blockText(value, dashColumn + 2, this.eol)}`)
      .join('');
    this.add(at, at, lead + text);
  }

  /**
   * Removes and appends entries of a flow collection (`{a: 1, b: 2}`, `[a, b]`) between its
   * brackets: a removed entry takes its separating comma with it, an added one follows the last.
   * `spans`: each entry's start and end; at least one entry stays.
   */
  private flowChanges(spans: [number, number][], removed: boolean[], added: string[]): void {
    const kept = spans.filter((_, i) => !removed[i]);
    spans.forEach(([start, end], i) => {
      if (!removed[i]) return;
      const previous = spans[i - 1];
      const next = spans[i + 1];
      if (previous) this.add(previous[1], end, '');
      else if (next) this.add(start, next[0], '');
    });
    if (added.length === 0) return;
    const last = kept[kept.length - 1] as [number, number];
    this.add(last[1], last[1], added.map((entry) => `, ${entry}`).join(''));
  }

  private flowItemEnd(pair: Pair): number {
    const value = pair.value as Node | null;
    return value && isNode(value) ? rangeOf(value)[1] : rangeOf(pair.key as Node)[1];
  }

  /** A value written anew at its place: its own style kept for a scalar, flow kept for flow. */
  private replace(node: Node, desired: unknown, place: Place): void {
    const [start, valueEnd] = rangeOf(node);
    const block = isCollection(node) && !node.flow;
    if (place.kind === 'flow' || (isCollection(node) && node.flow)) {
      const text = isNonEmptyCollection(desired) ? flowText(desired) : scalarLine(desired, styleOf(node), place.kind === 'flow');
      this.add(start, valueEnd, text);
      return;
    }
    if (!isNonEmptyCollection(desired)) {
      const line = scalarLine(desired, styleOf(node), false);
      if (isScalar(node) && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED')) {
        const ends = valueEnd > 0 && this.src[valueEnd - 1] === '\n';
        const indent = this.blockIndent(node, place);
        const multi = typeof desired === 'string' ? blockScalarText(desired, indent, this.eol) : undefined;
        this.add(start, valueEnd, multi ?? `${line}${ends ? this.eol : ''}`);
        return;
      }
      if (block) {
        this.add(...this.afterIndicator(node, place), place.kind === 'map-value' ? ` ${line}` : line);
        return;
      }
      const gap = start === valueEnd && this.src[start - 1] === ':' ? ' ' : '';
      this.add(start, valueEnd, `${gap}${line}`);
      return;
    }
    if (block && onlySpaceBefore(this.src, start)) {
      const indent = place.kind === 'map-value' ? Math.max(this.column(start), place.keyColumn + (isPlainObject(desired) ? 2 : 0)) : this.column(start);
      this.add(lineStartOf(this.src, start), lineAfter(this.src, node), `${' '.repeat(indent)}${blockText(desired, indent, this.eol)}`);
      return;
    }
    if (block) {
      this.add(start, lineAfter(this.src, node), blockText(desired, this.column(start), this.eol));
      return;
    }
    const [from, to] = this.afterIndicator(node, place);
    if (place.kind === 'map-value') {
      const indent = place.keyColumn + 2;
      this.add(from, to, `${this.eol}${' '.repeat(indent)}${withoutLastEol(blockText(desired, indent, this.eol), this.eol)}`);
    } else {
      this.add(from, to, withoutLastEol(blockText(desired, this.column(start), this.eol), this.eol));
    }
  }

  /**
   * The text a value occupies up to its line end (a trailing comment included): from just after
   * `key:` for a map value, from the value itself elsewhere.
   */
  private afterIndicator(node: Node, place: Place): [number, number] {
    const end = lineEndOf(this.src, node);
    if (place.kind === 'map-value') {
      const colon = this.src.indexOf(':', rangeOf(place.key)[1]);
      if (colon < 0 || colon > rangeOf(node)[0]) throw new NotInPlace('no colon after the key');
      return [colon + 1, end];
    }
    if (!onlySpaceBefore(this.src, rangeOf(node)[0]) && place.kind === 'root') throw new NotInPlace('a root value beside other text');
    return [rangeOf(node)[0], end];
  }

  /** Content indentation of a block scalar: that of its first content line, else two past its key. */
  private blockIndent(node: Scalar, place: Place): number {
    const [start, end] = rangeOf(node);
    const body = this.src.slice(start, end).split('\n').slice(1);
    const first = body.find((line) => line.trim() !== '');
    if (first) return first.length - first.trimStart().length;
    return place.kind === 'map-value' ? place.keyColumn + 2 : this.column(start) + 2;
  }

  /** The `-` of a block list item. */
  private dashOf(item: Node): number {
    let at = rangeOf(item)[0] - 1;
    while (at >= 0 && (this.src[at] === ' ' || this.src[at] === '\t')) at--;
    if (this.src[at] !== '-') throw new NotInPlace('a list item without its dash');
    return at;
  }

  private pairEnd(pair: Pair): number {
    const value = pair.value as Node | null;
    return lineAfter(this.src, value && isNode(value) ? value : (pair.key as Node));
  }

  private column(offset: number): number {
    return offset - lineStartOf(this.src, offset);
  }

  private add(start: number, end: number, text: string): void {
    this.edits.push({ start, end, text, order: this.edits.length });
  }
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && Array.isArray((value as { range?: unknown }).range);
}

function rangeOf(node: Node): [number, number, number] {
  const range = node.range;
  if (!range) throw new NotInPlace('a node without a source range');
  return range;
}

function keyText(pair: Pair): string | undefined {
  if (!isPair(pair) || !isScalar(pair.key)) return undefined;
  const value = (pair.key as Scalar).value;
  return value === null ? '' : String(value);
}

function styleOf(node: Node): ScalarStyle {
  if (isScalar(node) && (node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE')) return node.type;
  return 'PLAIN';
}

/** A scalar or empty collection on one line (a multi-line string double-quoted: it fits any place). */
function scalarLine(value: unknown, style: ScalarStyle, inFlow: boolean): string {
  if (Array.isArray(value)) return '[]';
  if (isPlainObject(value)) return '{}';
  return scalarText(value, style, inFlow);
}

/** A value inside a flow collection. */
function flowValue(value: unknown): string {
  return isNonEmptyCollection(value) ? flowText(value) : scalarLine(value, 'PLAIN', true);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function lineStartOf(src: string, offset: number): number {
  return src.lastIndexOf('\n', offset - 1) + 1;
}

function onlySpaceBefore(src: string, offset: number): boolean {
  return /^[ \t]*$/.test(src.slice(lineStartOf(src, offset), offset));
}

/** The offset after the line end on which `node` ends (its trailing comment included). */
function lineAfter(src: string, node: Node): number {
  const range = rangeOf(node);
  const end = Math.max(range[1], range[2]);
  if (end > 0 && src[end - 1] === '\n') return end;
  const newline = src.indexOf('\n', end);
  return newline < 0 ? src.length : newline + 1;
}

/** The offset of the line end on which `node` ends (before `\r\n` or `\n`). */
function lineEndOf(src: string, node: Node): number {
  let end = lineAfter(src, node);
  if (end > 0 && src[end - 1] === '\n') end--;
  if (end > 0 && src[end - 1] === '\r') end--;
  return end;
}

function withoutLastEol(text: string, eol: string): string {
  return text.endsWith(eol) ? text.slice(0, -eol.length) : text;
}

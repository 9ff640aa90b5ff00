import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/runtime/logger.js';
import { textLogLine } from '../src/runtime/text-log-line.js';

const record = (fields: Record<string, unknown>) => JSON.stringify({ level: 'info', time: '2026-12-04T21:27:15.316Z', service: 'gitops-reverser', ...fields });

/** A stream that keeps what is written; `isTTY` as a terminal would say it. */
function capture(isTTY: boolean): Writable & { text: string; isTTY: boolean } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string; isTTY: boolean };
  stream.text = '';
  stream.isTTY = isTTY;
  return stream;
}

describe('textLogLine', () => {
  it('puts time, level, adapter and message first, then the other fields as key=value', () => {
    const line = textLogLine(record({ adapter: '@gitops-reverser/sink-git', msg: 'pushed 3 commit(s)', target: 'live', partition: 'origin#main', commits: 3, dryRun: false }), { colour: false });
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.316 INFO {2}\[@gitops-reverser\/sink-git\] pushed 3 commit\(s\) target=live partition=origin#main commits=3 dryRun=false\n$/);
    expect(line).not.toContain('service=');
  });

  it('quotes values with spaces, writes objects as compact JSON, and numeric pino levels by name', () => {
    const line = textLogLine(JSON.stringify({ level: 40, time: 0, msg: 'slow', reason: 'remote down: 503', details: { a: [1, 2] }, none: null }), { colour: false });
    expect(line).toContain(' WARN  slow reason="remote down: 503" details={"a":[1,2]} none=null\n');
  });

  it('puts a stack under the line, indented, so each record starts on a line of its own', () => {
    const line = textLogLine(record({ level: 'error', msg: 'worker crashed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.js:1:1)' } }), { colour: false });
    expect(line.split('\n')).toEqual([expect.stringMatching(/ ERROR worker crashed$/), '    Error: boom', '        at f (x.js:1:1)', '']);
  });

  it('colours the level and dims key names only when asked', () => {
    const line = textLogLine(record({ level: 'error', msg: 'failed', code: 'GR_ERR_X' }), { colour: true });
    expect(line).toContain('\x1b[31mERROR\x1b[0m failed \x1b[2mcode=\x1b[0mGR_ERR_X');
  });

  it('passes a line that is not a JSON record through unchanged', () => {
    expect(textLogLine('not json', { colour: false })).toBe('not json\n');
  });
});

describe('createLogger formats', () => {
  it('json: one JSON record per line, even on a terminal', () => {
    const out = capture(true);
    createLogger('info', out, 'json').info({ target: 'live' }, 'hello');
    expect(JSON.parse(out.text)).toMatchObject({ level: 'info', msg: 'hello', target: 'live', service: 'gitops-reverser' });
  });

  it('auto: JSON off a terminal, readable coloured lines on one', () => {
    const pipe = capture(false);
    createLogger('info', pipe, 'auto').info('to a pipe');
    expect(JSON.parse(pipe.text)).toMatchObject({ msg: 'to a pipe' });
    const tty = capture(true);
    createLogger('info', tty, 'auto').child({ adapter: 'bus' }).warn({ depth: 3 }, 'on a terminal');
    expect(tty.text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} /);
    expect(tty.text.slice(13)).toBe('\x1b[33mWARN \x1b[0m [bus] on a terminal \x1b[2mdepth=\x1b[0m3\n');
  });

  it('text: readable lines without colours off a terminal; the level still filters', () => {
    const out = capture(false);
    const logger = createLogger('warn', out, 'text');
    logger.info('hidden');
    logger.error({ code: 'GR_ERR_SINK_OUTCOME' }, 'shown');
    expect(out.text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR shown code=GR_ERR_SINK_OUTCOME\n$/);
  });
});

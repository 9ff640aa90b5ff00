import { grError } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';

const TIME_FORMS = 'an ISO time (2026-11-20, 2026-11-20T14:30, 2026-11-20T14:30:00+01:00; UTC unless a zone is given), a time ago (90m, 36h, 3d, 2w) or now';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const AGO = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)(?:\s+ago)?$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** What git accepts as a revision name; anything else that is not a time is a typo. */
const REVISION = /^[A-Za-z0-9_][A-Za-z0-9_./~^@{}-]*$/;

/**
 * A time given on the command line (`--since`, `--until`, `--at`). Times without a zone are UTC, so a
 * command means the same on every machine (the output prints every time in UTC).
 */
export function parseTime(text: string, option: string, now: Date = new Date()): Date {
  const time = timeOf(text.trim(), now);
  if (time === 'invalid' || time === undefined) throw timeError(text, option, time === 'invalid' ? 'it looks like a time but is not a valid one' : 'it is not a time');
  return time;
}

/** `--at`: a time, or a revision of the target (a commit id, or a name git resolves such as `main~3`). */
export function parsePointInTime(text: string, option: string, now: Date = new Date()): Date | string {
  const given = text.trim();
  const time = timeOf(given, now);
  if (time instanceof Date) return time;
  if (time === 'invalid') throw timeError(text, option, 'it looks like a time but is not a valid one');
  if (REVISION.test(given)) return given;
  throw timeError(text, option, 'it is neither a time nor a commit', `use ${TIME_FORMS}, or a commit id from \`gitops-reverser history\``);
}

function timeOf(text: string, now: Date): Date | 'invalid' | undefined {
  if (text.toLowerCase() === 'now') return now;
  const ago = AGO.exec(text);
  if (ago) return new Date(now.getTime() - Number(ago[1]) * (UNIT_MS[(ago[2] as string).toLowerCase()] as number));
  const parts = DATE_TIME.exec(text);
  if (!parts) return /^\d{4}-\d/.test(text) ? 'invalid' : undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone] = parts as unknown as string[];
  const offset = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}${offset}`;
  const time = new Date(iso);
  // Date rolls 2026-02-30 over into March; a date that does not exist is a mistake, not a time.
  if (Number.isNaN(time.getTime()) || !sameCalendarDay(time, iso)) return 'invalid';
  return time;
}

function sameCalendarDay(time: Date, iso: string): boolean {
  const offsetMatch = /([+-])(\d{2}):(\d{2})$/.exec(iso);
  const offsetMs = offsetMatch ? (offsetMatch[1] === '-' ? -1 : 1) * (Number(offsetMatch[2]) * 60 + Number(offsetMatch[3])) * 60_000 : 0;
  return new Date(time.getTime() + offsetMs).toISOString().slice(0, 10) === iso.slice(0, 10);
}

function timeError(text: string, option: string, why: string, fix = `use ${TIME_FORMS}`): Error {
  return grError(ErrorCodes.CLI_TIME, `${option} "${text}": ${why}`, { fix });
}

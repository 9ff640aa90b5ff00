/** A commit message read back: what `withTrailers` (commit-message.ts) wrote, or what a person wrote. */
export interface CommitRecordText {
  readonly subject: string;
  readonly body: string;
  readonly trailers: Record<string, string[]>;
}

const TRAILER = /^([A-Za-z0-9][A-Za-z0-9-]*): (.*)$/;

/**
 * Splits a message into subject, body and trailers. Trailers are the last paragraph when every line
 * of it is `Key: value` (as the writer makes them, and as `git interpret-trailers` reads them); a
 * one-paragraph message has none, so a subject like `fix: typo` is never taken for one.
 */
export function parseCommitMessage(message: string): CommitRecordText {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .trimEnd()
    .split(/\n{2,}/);
  const subject = (paragraphs.shift() ?? '').split('\n')[0] ?? '';
  const trailers: Record<string, string[]> = {};
  const last = paragraphs[paragraphs.length - 1];
  if (last !== undefined) {
    const lines = last.split('\n');
    const parsed = lines.map((line) => TRAILER.exec(line));
    if (parsed.every((match) => match !== null)) {
      paragraphs.pop();
      for (const match of parsed as RegExpExecArray[]) (trailers[match[1] as string] ??= []).push(match[2] as string);
    }
  }
  return { subject, body: paragraphs.join('\n\n'), trailers };
}

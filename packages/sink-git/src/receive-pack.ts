import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { GitRemoteError } from './git-remote.js';
import type { EncodedObject } from './git-objects.js';
import { packOf } from './object-files.js';
import { withQuery } from './repo-location.js';

const ZERO_ID = '0'.repeat(40);

export interface ReceivePackOptions {
  /** Repository URL without credentials or query string (http or https). */
  readonly url: string;
  /** The provider URL's query string (`?private_token=...`, or ""), added to the request URL. */
  readonly query?: string;
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly timeoutMs: number;
}

/**
 * Pushes with the smart-HTTP receive-pack protocol in one request: the ref update (expected old id,
 * new id) and a pack of exactly the objects given, then reads report-status. No ref advertisement
 * first: the expected old id makes the server refuse the update when the branch moved (reported as
 * `rejected`, and the writer fetches and replays). One keep-alive connection is reused across pushes.
 * isomorphic-git's push walks the whole trees of the new commits to find what to send; the writer
 * already knows the objects it created, so a push costs the same in a repository of any size.
 */
export class ReceivePackClient {
  private readonly agent: HttpAgent;
  private readonly endpoint: URL;

  constructor(private readonly options: ReceivePackOptions) {
    this.endpoint = new URL(withQuery(`${options.url.replace(/\/+$/, '')}/git-receive-pack`, options.query ?? ''));
    this.agent = this.endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  /** Moves `ref` from `oldOid` (undefined: the ref must not exist yet) to `newOid`, sending `objects`. */
  async push(ref: string, oldOid: string | undefined, newOid: string, objects: readonly EncodedObject[]): Promise<void> {
    const command = `${oldOid ?? ZERO_ID} ${newOid} ${ref}\0report-status agent=gitops-reverser`;
    const body = Buffer.concat([pktLine(command), Buffer.from('0000'), packOf(objects).pack]);
    const response = await this.post(body);
    const lines = parsePktLines(response);
    const unpack = lines.find((line) => line.startsWith('unpack '));
    if (unpack !== 'unpack ok') throw new GitRemoteError('other', `the remote could not store the pushed objects: ${unpack ?? 'no report'}`);
    const status = lines.find((line) => line.startsWith(`ok ${ref}`) || line.startsWith(`ng ${ref}`));
    if (status?.startsWith('ok ')) return;
    // Any refusal of the ref update is treated as "the branch moved": fetch, replay, retry a few times.
    throw new GitRemoteError('rejected', `the remote refused to update ${ref}: ${status?.slice(`ng ${ref} `.length) ?? 'no status reported'}`);
  }

  close(): void {
    this.agent.destroy();
  }

  private post(body: Buffer): Promise<Buffer> {
    const { credentials, timeoutMs } = this.options;
    const requestFn = this.endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = requestFn(
        this.endpoint,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/x-git-receive-pack-request',
            accept: 'application/x-git-receive-pack-result',
            'content-length': String(body.length),
            'user-agent': 'git/gitops-reverser',
            ...(credentials ? { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` } : {}),
          },
          timeout: timeoutMs,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 401 || status === 403) reject(new GitRemoteError('auth', `pushing: the remote refused the credentials (HTTP ${status})`));
            else if (status >= 500) reject(new GitRemoteError('unreachable', `pushing: HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
            else if (status === 404) reject(new GitRemoteError('other', 'pushing: repository not found (HTTP 404)'));
            else if (status !== 200) reject(new GitRemoteError('other', `pushing: HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
            else resolve(Buffer.concat(chunks));
          });
          res.on('error', (error) => reject(new GitRemoteError('unreachable', `pushing: ${error.message}`, { cause: error })));
        },
      );
      req.on('timeout', () => req.destroy(new GitRemoteError('unreachable', `pushing timed out after ${timeoutMs} ms`)));
      req.on('error', (error) => reject(error instanceof GitRemoteError ? error : new GitRemoteError('unreachable', `pushing: ${error.message}`, { cause: error })));
      req.end(body);
    });
  }
}

function pktLine(text: string): Buffer {
  const payload = Buffer.from(`${text}\n`);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}

/** The text of each pkt-line (flush packets skipped), without trailing newlines. */
export function parsePktLines(data: Buffer): string[] {
  const lines: string[] = [];
  let at = 0;
  while (at + 4 <= data.length) {
    const length = parseInt(data.subarray(at, at + 4).toString('ascii'), 16);
    if (!Number.isFinite(length)) break;
    if (length === 0) {
      at += 4;
      continue;
    }
    lines.push(
      data
        .subarray(at + 4, at + length)
        .toString('utf8')
        .replace(/\n$/, ''),
    );
    at += length;
  }
  return lines;
}

import { createHmac } from 'node:crypto';
import { grError, type CredentialMode, type KubeObject, type Logger, type ResourceIdentity } from '@gitops-reverser/contract';
import { ErrorCodes } from '../errors.js';
import type { CredentialsConfig } from '../config/config-types.js';
import { fieldPathText, type FieldPathStep } from '../normalize/field-path.js';
import type { KernelMetrics } from '../runtime/metrics.js';
import { type CredentialFinding, CredentialScanner, pathKey, TextFinder, type ValuePath } from './credential-scanner.js';

export const CREDENTIAL_GATE_NAME = 'credential-gate';

/** The marker a redacted credential becomes: `REDACTED:sha256-hmac:` and 12 hex digits of a keyed hash of it. */
export const REDACTION_PREFIX = 'REDACTED:sha256-hmac:';

/** Log lines remembered before the same finding is only counted again. */
const REMEMBERED = 10_000;

/** Findings logged one by one per object and target; the rest are counted in one line (a hostile object may hold thousands). */
const LOGGED_PER_OBJECT = 20;

/**
 * The gate between sanitizing and writing (ADR 0022): finds credentials in objects that are written
 * unencrypted, and for each target does what the target's rules ask (`refuse`, `redact`, `encrypt`,
 * `warn`, `off`). Core Secrets are not its business (the Secret guard and the encoders decide
 * those). It never logs a credential, only where it is and which rule found it.
 */
export class CredentialGate {
  readonly defaultMode: CredentialMode;
  private readonly scanner: CredentialScanner;
  private readonly logged = new Set<string>();

  constructor(
    config: CredentialsConfig,
    private readonly redactionKey: Buffer | undefined,
    private readonly logger: Logger,
    private readonly metrics: KernelMetrics,
  ) {
    this.defaultMode = config.mode;
    this.scanner = new CredentialScanner(config.ignore);
  }

  /** The credentials in an object about to be written; none for core Secrets. */
  findings(object: KubeObject, identity: ResourceIdentity): CredentialFinding[] {
    if (identity.group === '' && identity.resource === 'secrets') return [];
    return this.scanner.scan(object);
  }

  /** Counts what was found for a target, and logs it once per object, target, rule and place (never the value). */
  report(findings: readonly CredentialFinding[], key: string, target: string, mode: CredentialMode, action: string): void {
    let logged = 0;
    const places = new Set<string>();
    for (const finding of findings) {
      this.metrics.credentialsFound.inc({ target, rule: finding.rule, mode });
      const where = describePath(finding.path);
      places.add(where);
      const once = `${key}|${target}|${finding.rule}|${where}|${mode}`;
      if (this.logged.has(once)) continue;
      this.logged.add(once);
      if (this.logged.size > REMEMBERED) this.logged.delete(this.logged.values().next().value as string);
      if (++logged > LOGGED_PER_OBJECT) continue;
      this.logger.warn(
        { key, target, rule: finding.rule, path: where, mode, ...(this.redactionKey ? { fingerprint: this.fingerprint(finding.text) } : {}) },
        `credential (${finding.rule}) in ${key} at ${where}, target ${target}: ${action} (credentials: ${mode})`,
      );
    }
    if (logged > LOGGED_PER_OBJECT) {
      this.logger.warn(
        { key, target, mode, credentials: findings.length, places: places.size },
        `${logged - LOGGED_PER_OBJECT} more credentials in ${key} not logged one by one (${findings.length} in ${places.size} places), target ${target}: ${action} (credentials: ${mode})`,
      );
    }
  }

  /** A copy of `object` with every finding replaced by its marker; the input is not changed. */
  redact(object: KubeObject, findings: readonly CredentialFinding[]): KubeObject {
    const copy = structuredClone(object);
    const byPath = new Map<string, { path: ValuePath; spans: CredentialFinding[] }>();
    for (const finding of findings) {
      const key = pathKey(finding.path);
      const entry = byPath.get(key);
      if (entry) entry.spans.push(finding);
      else byPath.set(key, { path: finding.path, spans: [finding] });
    }
    for (const { path, spans } of byPath.values()) {
      const parent = path.slice(0, -1).reduce<unknown>((value, step) => (value as Record<string | number, unknown> | undefined)?.[step], copy) as Record<string | number, unknown> | undefined;
      const last = path[path.length - 1] as string | number;
      const value = parent?.[last];
      if (typeof value !== 'string' || !parent) continue;
      // One pass in order of place (the spans of one value do not overlap): linear in the value.
      const parts: string[] = [];
      let from = 0;
      for (const span of [...spans].sort((a, b) => a.start - b.start)) {
        if (span.start < from) continue;
        parts.push(value.slice(from, span.start), this.marker(span.text));
        from = span.end;
      }
      parts.push(value.slice(from));
      parent[last] = parts.join('');
    }
    return copy;
  }

  /** `REDACTED:sha256-hmac:<12 hex>`: equal credentials give equal markers (no churn), and without the key a short one cannot be guessed from it. */
  marker(text: string): string {
    return `${REDACTION_PREFIX}${this.fingerprint(text)}`;
  }

  /** Findings whose credential text can still be read anywhere in `stored` (values and keys): what redaction or encryption left behind. */
  leaks(stored: KubeObject, findings: readonly CredentialFinding[]): CredentialFinding[] {
    const texts = new Map<string, string>();
    for (const finding of findings) texts.set(finding.text, finding.rule);
    const finder = new TextFinder(texts);
    const readable = new Set<string>();
    const look = (value: string) => finder.each(value, (_at, text) => readable.add(text));
    const visit = (value: unknown) => {
      if (typeof value === 'string') {
        look(value);
        return;
      }
      if (value === null || typeof value !== 'object') return;
      for (const [key, item] of Object.entries(value)) {
        look(key);
        visit(item);
      }
    };
    visit(stored);
    return findings.filter((finding) => readable.has(finding.text));
  }

  private fingerprint(text: string): string {
    // Never an unkeyed hash: a short secret could be found from it by trying candidates. Config
    // validation asks for the key wherever `redact` is used; without it, log lines carry no fingerprint.
    if (!this.redactionKey) throw grError(ErrorCodes.CONFIG_INVALID, 'credentials: redact needs credentials.redactionKeyFile', { fix: 'set credentials.redactionKeyFile' });
    return createHmac('sha256', this.redactionKey).update(text).digest('hex').slice(0, 12);
  }
}

/** The distinct value paths of some findings (the `encryptPaths` hint). */
export function valuePaths(findings: readonly CredentialFinding[]): ValuePath[] {
  const paths = new Map<string, ValuePath>();
  for (const finding of findings) if (!paths.has(pathKey(finding.path))) paths.set(pathKey(finding.path), finding.path);
  return [...paths.values()];
}

/** A value path in the field path syntax (`spec.template.spec.containers[0].env[2].value`). */
export function describePath(path: ValuePath): string {
  return fieldPathText(path.map((step): FieldPathStep => (typeof step === 'number' ? { kind: 'index', index: step } : { kind: 'key', key: step })));
}

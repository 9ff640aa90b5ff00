import { describe, expect, it } from 'vitest';
import { errorText, grError, isGitopsReverserError } from '../src/index.js';

describe('isGitopsReverserError', () => {
  it("recognizes this project's codes and an adapter's own, so their fix is never dropped", () => {
    expect(isGitopsReverserError(grError('GR_ERR_CONFIG_READ', 'x'))).toBe(true);
    expect(isGitopsReverserError(grError('ACME_S3_ERR_BUCKET_MISSING', 'x'))).toBe(true);
    expect(errorText(grError('ACME_ERR_TOKEN', 'no token', { fix: 'set token' }))).toBe('ACME_ERR_TOKEN: no token\n  fix: set token');
  });

  it('refuses codes of another form and errors without describe()', () => {
    for (const code of ['ERR_TOKEN', 'acme_err_token', 'ACME-ERR-TOKEN', 'ACME_ERR', 'ACME__ERR_X', 'ENOENT']) expect(isGitopsReverserError(grError(code, 'x')), code).toBe(false);
    expect(isGitopsReverserError(Object.assign(new Error('x'), { code: 'ACME_ERR_TOKEN' }))).toBe(false);
    expect(isGitopsReverserError({ code: 'ACME_ERR_TOKEN', describe: () => '' })).toBe(false);
  });
});

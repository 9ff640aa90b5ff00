/**
 * Polls `produce` until it returns something other than undefined/false, and returns that; throws
 * naming `what` after `timeoutMs`. Tests wait for real effects (a commit, a watch) this way.
 */
export async function until<T>(produce: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await produce();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

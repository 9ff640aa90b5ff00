/**
 * Where a JetStream message sits, from its ack subject: its stream sequence, how often it was
 * delivered, and when the stream stored it (the same on every redelivery).
 */
export function deliveryOf(reply: string | undefined): { streamSeq: number; delivered: number; storedAtMs: number } | undefined {
  if (!reply?.startsWith('$JS.ACK.')) return undefined;
  const tokens = reply.split('.');
  // v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
  // v2: $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.<token>
  const offset = tokens.length === 9 ? 4 : tokens.length >= 11 ? 6 : -1;
  if (offset < 0) return undefined;
  const nanos = tokens[offset + 3] ?? '';
  // Nanoseconds since the epoch exceed a double's exact range: divided as a bigint.
  const storedAtMs = /^\d+$/.test(nanos) ? Number(BigInt(nanos) / 1_000_000n) : Number.NaN;
  return { delivered: Number(tokens[offset]), streamSeq: Number(tokens[offset + 1]), storedAtMs };
}

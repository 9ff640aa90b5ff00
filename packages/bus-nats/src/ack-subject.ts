/** Where a JetStream message sits: its stream sequence and how often it was delivered (from its ack subject). */
export function deliveryOf(reply: string | undefined): { streamSeq: number; delivered: number } | undefined {
  if (!reply?.startsWith('$JS.ACK.')) return undefined;
  const tokens = reply.split('.');
  // v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
  // v2: $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.<token>
  const offset = tokens.length === 9 ? 4 : tokens.length >= 11 ? 6 : -1;
  if (offset < 0) return undefined;
  return { delivered: Number(tokens[offset]), streamSeq: Number(tokens[offset + 1]) };
}

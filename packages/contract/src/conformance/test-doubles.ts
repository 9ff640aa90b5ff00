import type { CounterMetric, GaugeMetric, HistogramMetric, LogFn, Logger, Metrics } from '../observability.js';

/** A logger that keeps its lines in memory (for assertions) and prints nothing. */
/** One line a memoryLogger kept. */
export interface LoggedLine {
  level: string;
  message: string;
  fields: object;
}

export function memoryLogger(lines: LoggedLine[] = [], bindings: object = {}): Logger & { readonly lines: LoggedLine[] } {
  const at = (level: string): LogFn =>
    ((first: object | string, message?: string) => {
      if (typeof first === 'string') lines.push({ level, message: first, fields: bindings });
      else lines.push({ level, message: message ?? '', fields: { ...bindings, ...first } });
    }) as LogFn;
  return {
    lines,
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    child: (more) => memoryLogger(lines, { ...bindings, ...more }),
  };
}

/** Metrics that accept every call and keep nothing. */
export function noopMetrics(): Metrics {
  const counter: CounterMetric<string> = { inc: () => undefined };
  const gauge: GaugeMetric<string> = { set: () => undefined, inc: () => undefined, dec: () => undefined, reset: () => undefined };
  const histogram: HistogramMetric<string> = { observe: () => undefined, startTimer: () => () => 0 };
  return { counter: () => counter, gauge: () => gauge, histogram: () => histogram };
}

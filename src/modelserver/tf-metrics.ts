// TF Serving's own metrics, kept and printed as TF Serving prints them on its
// Prometheus endpoint (--monitoring_config_file): the names dashboards and
// alerts are written against (:tensorflow:serving:request_count,
// request_latency, runtime_latency), their labels, and its exposition format
// — a `# TYPE` line per metric and no `# HELP`, `{}` on a metric without
// labels, histogram bounds with six significant digits, latencies in µs.
// Facts: ../shared/tf-serving/PARITY.md §4 (util/prometheus_exporter.cc,
// servables/tensorflow/util.cc).

/** request_latency's and runtime_latency's bounds: 10 × 1.8^i µs, 33 of them, then +Inf. */
export const LATENCY_BOUNDS_US: readonly number[] = Array.from({ length: 33 }, (_, i) => 10 * 1.8 ** i);

/** TF's default float formatting (C++ streams, precision 6, as %g): 10, 18, 32.4, 1.88957e+06. */
export function formatBound(v: number): string {
  const p = v.toPrecision(6);
  const [mantissa, exponent] = p.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  if (exponent === undefined) return trimmed;
  const sign = exponent.startsWith('-') ? '-' : '+';
  const digits = exponent.replace(/^[+-]/, '').padStart(2, '0');
  return `${trimmed}e${sign}${digits}`;
}

type Labels = readonly (readonly [string, string])[];

/** A label value as TF's exporter escapes it (backslash and double quote). */
const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const labelText = (labels: Labels): string => `{${labels.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;

class Histogram {
  readonly counts = new Array<number>(LATENCY_BOUNDS_US.length + 1).fill(0);
  sum = 0;
  count = 0;

  observe(v: number): void {
    let i = LATENCY_BOUNDS_US.findIndex((b) => v < b);
    if (i === -1) i = LATENCY_BOUNDS_US.length;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

/** Series of one metric by their label values (in the metric's label order). */
class Family<T> {
  private readonly series = new Map<string, { labels: Labels; value: T }>();
  constructor(readonly name: string, readonly kind: 'counter' | 'histogram', private readonly labelNames: readonly string[], private readonly make: () => T) {}

  get(values: readonly string[]): T {
    const key = JSON.stringify(values);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: this.labelNames.map((n, i) => [n, values[i] ?? ''] as const), value: this.make() };
      this.series.set(key, s);
    }
    return s.value;
  }

  entries(): { labels: Labels; value: T }[] {
    return [...this.series.values()];
  }
}

export type TfApi = 'Predict' | 'Classify' | 'Regress';

export class TfServingMetrics {
  private readonly requests = new Family(':tensorflow:serving:request_count', 'counter', ['model_name', 'status'], () => ({ n: 0 }));
  private readonly requestLatency = new Family(':tensorflow:serving:request_latency', 'histogram', ['model_name', 'API', 'entrypoint'], () => new Histogram());
  private readonly runtimeLatency = new Family(':tensorflow:serving:runtime_latency', 'histogram', ['model_name', 'API', 'runtime'], () => new Histogram());

  /**
   * One request answered: counted by its status's code name (OK,
   * INVALID_ARGUMENT, …); its latency recorded only when it succeeded, as TF
   * Serving does. gRPC: api Predict/Classify/Regress, entrypoint GRPC; REST:
   * the URL's verb as written (predict, or empty for a GET), entrypoint REST.
   */
  request(model: string, status: string, api: string, entrypoint: 'GRPC' | 'REST', latencyUs?: number): void {
    this.requests.get([model, status]).n++;
    if (status === 'OK' && latencyUs !== undefined) this.requestLatency.get([model, api, entrypoint]).observe(latencyUs);
  }

  /** Time the model itself ran for a request, µs (TF Serving's Session::Run time; its runtime label for the classic path is TF1). */
  runtime(model: string, api: TfApi, us: number): void {
    this.runtimeLatency.get([model, api, 'TF1']).observe(us);
  }

  /** The Prometheus text, as TF Serving's exporter writes it. */
  exposition(): string {
    const lines: string[] = [];
    lines.push(`# TYPE ${this.requests.name} counter`);
    for (const { labels, value } of this.requests.entries()) lines.push(`${this.requests.name}${labelText(labels)} ${value.n}`);
    for (const family of [this.requestLatency, this.runtimeLatency]) {
      lines.push(`# TYPE ${family.name} histogram`);
      for (const { labels, value } of family.entries()) {
        let cumulative = 0;
        value.counts.forEach((n, i) => {
          cumulative += n;
          const le = i < LATENCY_BOUNDS_US.length ? formatBound(LATENCY_BOUNDS_US[i]) : '+Inf';
          lines.push(`${family.name}_bucket${labelText([...labels, ['le', le]])} ${cumulative}`);
        });
        lines.push(`${family.name}_sum${labelText(labels)} ${Math.round(value.sum)}`);
        lines.push(`${family.name}_count${labelText(labels)} ${value.count}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

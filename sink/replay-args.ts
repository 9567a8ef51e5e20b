/** Command-line arguments of the replay tool, parsed and validated (pure). */
export interface ReplayArgs {
  consumer: 'sink' | 'aggregate';
  /** An ISO timestamp, epoch ms, or a duration back from now like -1h / -30m / -90s. */
  from?: string;
  offsets?: Array<{ topic: string; partition: number; offset: bigint }>;
  stopMembers: boolean;
  watch: boolean;
  /** Overrides of the consumer's group and input topics (tests, non-default deployments). */
  group?: string;
  topics?: string[];
  /** For an aggregate replay: the sink group and window-counts topic it waits for (defaults rtb-sink, window-counts). */
  sinkGroup?: string;
  sinkTopic?: string;
}

const USAGE = 'usage: replay --consumer sink|aggregate (--from <ISO time | epoch ms | -1h> | --offsets topic:partition=offset,...) [--stop-members] [--no-watch] [--group G] [--topic T ...] [--sink-group G --sink-topic T]';

export function parseReplayArgs(argv: readonly string[]): ReplayArgs {
  const out: Partial<ReplayArgs> & { stopMembers: boolean; watch: boolean } = { stopMembers: false, watch: true };
  const topics: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value; ${USAGE}`);
      return v;
    };
    if (a === '--consumer') {
      const v = value();
      if (v !== 'sink' && v !== 'aggregate') throw new Error(`--consumer must be sink or aggregate, not ${JSON.stringify(v)}`);
      out.consumer = v;
    } else if (a === '--from') {
      out.from = value();
      resolveFrom(out.from, 0);
    } else if (a === '--offsets') {
      out.offsets = value().split(',').map((spec) => {
        const m = /^([A-Za-z0-9._-]+):(\d+)=(\d+)$/.exec(spec.trim());
        if (!m) throw new Error(`--offsets entry ${JSON.stringify(spec)} is not topic:partition=offset`);
        return { topic: m[1]!, partition: Number(m[2]), offset: BigInt(m[3]!) };
      });
    } else if (a === '--stop-members') out.stopMembers = true;
    else if (a === '--no-watch') out.watch = false;
    else if (a === '--group') out.group = value();
    else if (a === '--sink-group') out.sinkGroup = value();
    else if (a === '--sink-topic') out.sinkTopic = value();
    else if (a === '--topic') topics.push(value());
    else throw new Error(`unknown argument ${JSON.stringify(a)}; ${USAGE}`);
  }
  if (!out.consumer) throw new Error(`--consumer is required; ${USAGE}`);
  if ((out.from === undefined) === (out.offsets === undefined)) throw new Error(`give exactly one of --from and --offsets; ${USAGE}`);
  if (topics.length > 0) out.topics = topics;
  return out as ReplayArgs;
}

/** Epoch ms of a --from value, relative ones against `nowMs`. */
export function resolveFrom(from: string, nowMs: number): number {
  const rel = /^-(\d+)(ms|s|m|h|d)$/.exec(from.trim());
  if (rel) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    return nowMs - Number(rel[1]) * unit;
  }
  if (/^\d{10,16}$/.test(from.trim())) return Number(from);
  const t = Date.parse(from);
  if (Number.isNaN(t) || !/[zZ]|[+-]\d\d:?\d\d$/.test(from.trim())) throw new Error(`--from ${JSON.stringify(from)} is not an ISO time with a zone (e.g. 2026-11-22T10:00:00Z), epoch ms, or -1h`);
  return t;
}

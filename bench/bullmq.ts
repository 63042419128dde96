/**
 * Baseline: the fan-out of engine.fanout10k (1 → 10,000 → 1) as a BullMQ flow on a local redis-server.
 *
 * Structure: a single "start" job (returns the list 0..n-1, like bench.source). When it completes, a FlowProducer
 * adds a parent "end" job with n "noop" children (one per list item, data { x }); BullMQ runs the parent only after
 * every child completed, and "end" reads the children's results with getChildrenValues() (like bench.collect).
 * This is the natural BullMQ shape of "produce a list → map → consume the list": a flow cannot depend on a job
 * that is not one of its children, so the fan-out is added once the start job's result is known (as the engine
 * expands its map once the list is known). ONE Worker with concurrency 50 runs every job; processors do no work.
 * Timed: from adding "start" to "end" completing. Worker start-up and redis start-up are excluded. BullMQ keeps
 * completed jobs (its default), as the engine keeps every node.
 */
import { FlowProducer, Queue, Worker, type Job } from 'bullmq';
import { fmt, newSalt } from './support.ts';
import { skipped, type Benchmark } from './types.ts';

const N = 10_000;

interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** scripts/services/redis.mjs is plain JavaScript: imported through a URL so TypeScript needs no declaration. */
async function startRedis(): Promise<RedisServer> {
  const mod = (await import(new URL('../scripts/services/redis.mjs', import.meta.url).href)) as { startRedis(options?: { quiet?: boolean }): Promise<RedisServer> };
  return mod.startRedis();
}

interface Data {
  n?: number;
  x?: number;
}

async function processor(job: Job<Data>): Promise<unknown> {
  switch (job.name) {
    case 'start':
      return Array.from({ length: job.data.n! }, (_, i) => i);
    case 'noop':
      return job.data.x;
    case 'end': {
      const values = Object.values(await job.getChildrenValues<number>());
      return { count: values.length, sum: values.reduce((a, b) => a + b, 0) };
    }
    default:
      throw new Error(`unknown job ${job.name}`);
  }
}

/** One timed flow on a fresh queue; returns seconds. */
async function runFlow(port: number): Promise<number> {
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const queueName = `bench-${newSalt()}`;
  const queue = new Queue(queueName, { connection });
  const flows = new FlowProducer({ connection });
  const waiters = new Map<string, (job: Job) => void>();
  const failures: string[] = [];
  const worker = new Worker(queueName, processor, { connection, concurrency: 50 });
  worker.on('completed', (job) => waiters.get(job.name)?.(job));
  worker.on('failed', (job, err) => failures.push(`${job?.name ?? '?'}: ${err.message}`));
  const completion = (name: string) => new Promise<Job>((resolve) => waiters.set(name, resolve));
  try {
    await Promise.all([worker.waitUntilReady(), queue.waitUntilReady(), flows.waitUntilReady()]);
    const t0 = process.hrtime.bigint();
    const started = completion('start');
    await queue.add('start', { n: N });
    const list = (await started).returnvalue as number[];
    const ended = completion('end');
    await flows.add({ name: 'end', queueName, data: {}, children: list.map((x) => ({ name: 'noop', queueName, data: { x } })) });
    const end = await ended;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const out = end.returnvalue as { count: number; sum: number };
    if (failures.length) throw new Error(`${failures.length} BullMQ job(s) failed, e.g. ${failures[0]}`);
    if (out.count !== N || out.sum !== (N * (N - 1)) / 2) throw new Error(`BullMQ flow returned ${JSON.stringify(out)}`);
    return seconds;
  } finally {
    await worker.close();
    await flows.close();
    await queue.close();
  }
}

const REPS = 3;

const bullmqFanout10k: Benchmark = {
  name: 'baseline.bullmq.fanout10k',
  description: `BullMQ flow: start → parent "end" with ${N} children, one Worker (concurrency 50), local redis; median of ${REPS}`,
  async run(ctx) {
    let redis: RedisServer;
    try {
      redis = await startRedis();
    } catch (err) {
      return [skipped('baseline.bullmq.fanout10k.seconds', 's', `redis unavailable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)];
    }
    try {
      const all: number[] = [];
      for (let i = 0; i < REPS; i++) {
        all.push(await runFlow(redis.port));
        ctx.log(`  bullmq run ${i + 1}: ${N + 2} jobs in ${all[i]!.toFixed(2)} s`);
      }
      const sorted = [...all].sort((a, b) => a - b);
      const seconds = sorted[Math.floor((sorted.length - 1) / 2)]!;
      return [
        { metric: 'baseline.bullmq.fanout10k.seconds', value: seconds, unit: 's', note: `${N + 2} jobs, 1 worker × concurrency 50, redis on 127.0.0.1; median of ${REPS} (${sorted.map((v) => fmt(v)).join(', ')})` },
        { metric: 'baseline.bullmq.fanout10k.jobs_per_s', value: (N + 2) / seconds, unit: 'jobs/s' },
      ];
    } finally {
      await redis.stop();
    }
  },
};

export const bullmqBenchmarks: Benchmark[] = [bullmqFanout10k];

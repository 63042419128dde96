/**
 * Every benchmark `npm run bench` knows, in run order. To add one: write bench/NAME.ts exporting Benchmark objects
 * (see types.ts) and list them here. Derived metrics are computed from others when all their inputs were measured.
 */
import { bullmqBenchmarks } from './bullmq.ts';
import { cliBenchmarks } from './cli.ts';
import { dataBenchmarks } from './data.ts';
import { engineBenchmarks } from './engine.ts';
import { featureBenchmarks } from './features.ts';
import { onlineBenchmarks } from './online.ts';
import { trackingBenchmarks } from './tracking.ts';
import { tuningBenchmarks } from './tuning.ts';
import { studyBenchmarks } from './study.ts';
import type { Benchmark, DerivedMetric } from './types.ts';

export const benchmarks: Benchmark[] = [...engineBenchmarks, ...bullmqBenchmarks, ...tuningBenchmarks, ...studyBenchmarks, ...dataBenchmarks, ...featureBenchmarks, ...onlineBenchmarks, ...trackingBenchmarks, ...cliBenchmarks];

export const derived: DerivedMetric[] = [
  {
    metric: 'engine.fanout10k.speedup_vs_bullmq',
    unit: '×',
    inputs: ['baseline.bullmq.fanout10k.seconds', 'engine.fanout10k.seconds'],
    compute: ([bull, engine]) => bull! / engine!,
    note: 'bullmq seconds / engine seconds (> 1: the engine is faster)',
  },
];

/**
 * CLI start-up benchmarks (the compiled CLI, as an installed `baton` runs):
 *   cli.help_ms   wall time of `node bin/baton.mjs --help`
 *   cli.runs_ms   wall time of `node bin/baton.mjs runs` on a store with 20 runs (opening SQLite, migrations check,
 *                 one query, rendering)
 * Each is the median of 7 runs after one warm-up (file cache). Needs a build (`npm run build`); skipped without.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { task, workflow, z } from 'baton';
import { openPlatform } from 'baton/platform';
import { fmt } from './support.ts';
import { skipped, type Benchmark, type Metric } from './types.ts';

const BIN = fileURLToPath(new URL('../bin/baton.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const REPEATS = 7;

const one = task({ name: 'bench.cli.one', input: z.object({ n: z.number() }), output: z.number(), cache: false, run: ({ n }) => n + 1 });
const tiny = workflow({ name: 'bench.cli', params: z.object({ n: z.number() }) }, ({ n }) => one({ n }));

/** Median wall time of `node ...args` in cwd; throws when the command fails. */
function timeCli(args: string[], cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i <= REPEATS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`baton ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export const cliBenchmarks: Benchmark[] = [
  {
    name: 'cli.startup',
    description: 'baton --help and baton runs, compiled CLI, median wall time',
    async run(ctx): Promise<Metric[]> {
      if (!existsSync(BUILT)) {
        return [skipped('cli.help_ms', 'ms', 'not built: run `npm run build`', '≤ 300'), skipped('cli.runs_ms', 'ms', 'not built: run `npm run build`', '≤ 600')];
      }
      const dir = mkdtempSync(join(tmpdir(), 'baton-bench-cli-'));
      try {
        ctx.log('cli: 20 runs into a fresh store');
        const platform = await openPlatform({ cwd: dir, executor: 'inline' });
        try {
          for (let i = 0; i < 20; i++) await platform.run(tiny, { n: i });
        } finally {
          await platform.close();
        }
        ctx.log('cli: timing --help and runs');
        const bare = timeCli(['-e', '0'], dir);
        const help = timeCli([BIN, '--help'], dir);
        const runs = timeCli([BIN, 'runs'], dir);
        // Node's own start-up, measured alongside: on a busy machine it alone can exceed the targets.
        const note = `median of ${REPEATS}, node bin/baton.mjs (dist/); bare \`node -e 0\` ${fmt(bare)} ms`;
        return [
          { metric: 'cli.help_ms', value: Number(fmt(help)), unit: 'ms', target: '≤ 300', note },
          { metric: 'cli.runs_ms', value: Number(fmt(runs)), unit: 'ms', target: '≤ 600', note: `${note}, 20 runs in a SQLite store` },
        ];
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];

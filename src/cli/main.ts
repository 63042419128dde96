/**
 * The `baton` CLI: parses arguments (commander), calls the platform, renders. No rules live here.
 * Exit codes come from one table (src/errors.ts EXIT_CODES) and are listed in README.md.
 */
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { BatonError, EXIT_CODES, exitCodeOf, messageOf } from '../errors.ts';
import type { Platform } from '../composition/platform.ts';
import type { PlatformConfig } from '../composition/config.ts';
import type { ExecutorName } from '../sdk/task.ts';
import type { RunStatus } from '../ports/metadata.ts';
import { c, duration, stateLabel, table, when } from './format.ts';
import { nonNegativeInt, parseParams, parsePools, positiveInt } from './params.ts';
import { datasetCommands } from './commands/datasets.ts';
import { featureCommands } from './commands/features.ts';
import { trackingCommands } from './commands/tracking.ts';
import { studyCommands } from './commands/studies.ts';
import { modelCommands } from './commands/models.ts';

interface GlobalOptions {
  store?: string;
  artifacts?: string;
  cwd?: string;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function configFrom(g: GlobalOptions, extra: PlatformConfig = {}): PlatformConfig {
  return { ...(g.store ? { store: g.store } : {}), ...(g.artifacts ? { artifacts: g.artifacts } : {}), ...(g.cwd ? { cwd: g.cwd } : {}), ...extra };
}

// Modules are loaded on use (dynamic imports in the actions), so that `baton --help` starts in a fraction of a second.
async function withPlatform<T>(g: GlobalOptions, extra: PlatformConfig, fn: (p: Platform) => Promise<T>): Promise<T> {
  const { openPlatform } = await import('../composition/platform.ts');
  const p = await openPlatform(configFrom(g, extra));
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const statusExit = (s: RunStatus | string): number => (s === 'succeeded' ? EXIT_CODES.ok : s === 'cancelled' ? EXIT_CODES.cancelled : EXIT_CODES.run_failed);

async function printOutcome(p: Platform, runId: string, json: boolean): Promise<number> {
  const run = (await p.store.getRun(runId))!;
  const { decodeShallow } = await import('../values/codec.ts');
  const value = run.output ? await decodeShallow(run.output, p.artifacts) : undefined;
  if (json) {
    out(JSON.stringify({ runId, status: run.status, output: value, error: run.error }));
  } else {
    out(`${stateLabel(run.status)}  run ${c.bold(runId)} (${run.workflow}) in ${duration((run.endedAt ?? Date.now()) - run.createdAt)}`);
    if (value !== undefined) {
      const text = JSON.stringify(value, null, 2);
      out(text.length > 2000 ? `${text.slice(0, 2000)}\n… (${text.length} chars; see baton show ${runId} --json)` : text);
    }
    if (run.error) out(c.red(run.error));
    out(c.gray(`Details: baton show ${runId}   Logs: baton logs ${runId}${run.status !== 'succeeded' ? `   Resume: baton resume ${runId}` : ''}`));
  }
  return statusExit(run.status);
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('baton')
    .description('Typed ML orchestration: run workflows, inspect runs, resume and replay.')
    // package.json is two folders up from both src/cli/main.ts and dist/cli/main.js.
    .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version, '-V, --version', 'print the version of Baton')
    .option('--store <url>', 'metadata store: sqlite:PATH or postgres://… (default sqlite:.baton/baton.db; env BATON_STORE)')
    .option('--artifacts <url>', 'artifact store: file:PATH (default file:.baton/artifacts; env BATON_ARTIFACTS)')
    .option('--cwd <dir>', 'base directory for the embedded defaults')
    .showHelpAfterError()
    .exitOverride();

  const g = (): GlobalOptions => program.opts<GlobalOptions>();

  program
    .command('run')
    .description('run a workflow file')
    .argument('<file>', 'workflow file (.ts or .js) exporting a workflow')
    .option('-p, --param <key=value>', 'workflow parameter (repeatable; JSON values allowed)', collect, [])
    .option('-w, --workflow <name>', 'which workflow, when the file exports several')
    .addOption(new Option('-e, --executor <name>', 'executor for tasks that do not choose one').choices(['inline', 'threads', 'processes']))
    .option('--cpus <n>', 'CPU slots this engine schedules', positiveInt('--cpus'))
    .option('--gpus <n>', 'GPUs this engine schedules', nonNegativeInt('--gpus'))
    .option('--memory <mb>', 'memory budget in MiB', positiveInt('--memory', '4096'))
    .option('--pool <name=n>', 'pool concurrency limit (repeatable)', collect, [])
    .option('--json', 'print the outcome as JSON, no progress display')
    .option('-q, --quiet', 'no progress display')
    .action(async (file: string, o: { param: string[]; workflow?: string; executor?: ExecutorName; cpus?: number; gpus?: number; memory?: number; pool: string[]; json?: boolean; quiet?: boolean }) => {
      const params = parseParams(o.param);
      const pools = parsePools(o.pool);
      const [{ loadWorkflowFile }, { Progress }, { interruptible }] = await Promise.all([import('../composition/load-workflow.ts'), import('./progress.ts'), import('./interrupt.ts')]);
      const { workflow, file: path } = await loadWorkflowFile(file, o.workflow);
      await withPlatform(g(), { ...(o.executor ? { executor: o.executor } : {}), ...(o.cpus ? { cpus: o.cpus } : {}), ...(o.gpus !== undefined ? { gpus: o.gpus } : {}), ...(o.memory ? { memoryMB: o.memory } : {}), pools }, async (p) => {
        const { runId, graph } = await p.startRun(workflow, params, { file: path });
        const progress = new Progress(runId, workflow.name, { quiet: !!(o.json || o.quiet) });
        const sig = interruptible();
        try {
          await p.drive(runId, workflow, graph, { onEvent: progress.onEvent, signal: sig.signal });
        } finally {
          sig.dispose();
          if (!(o.json || o.quiet)) progress.stop();
        }
        setExit(await printOutcome(p, runId, !!o.json));
      });
    });

  const runs = program
    .command('runs')
    .description('list runs, newest first (and search and compare tracking runs)')
    .addOption(new Option('-s, --status <status>', 'only runs with this status').choices(['running', 'succeeded', 'failed', 'cancelled']))
    .option('-w, --workflow <name>', 'only runs of this workflow')
    .option('-n, --limit <n>', 'how many', positiveInt('--limit'), 20)
    .option('--json', 'JSON lines')
    .action(async (o: { status?: RunStatus; workflow?: string; limit: number; json?: boolean }) => {
      await withPlatform(g(), {}, async (p) => {
        const runs = await p.store.listRuns({ ...(o.status ? { status: o.status } : {}), ...(o.workflow ? { workflow: o.workflow } : {}), limit: o.limit });
        if (o.json) return runs.forEach((r) => out(JSON.stringify({ id: r.id, workflow: r.workflow, status: r.status, createdAt: r.createdAt, endedAt: r.endedAt, error: r.error })));
        if (runs.length === 0) return out(c.gray('No runs yet. Start one with `baton run FILE`.'));
        out(table(runs.map((r) => [r.id, r.workflow, stateLabel(r.status), when(r.createdAt), duration((r.endedAt ?? Date.now()) - r.createdAt), c.gray((r.error ?? '').split('\n')[0]!.slice(0, 60))]), ['run', 'workflow', 'status', 'started', 'took', 'error']));
      });
    });

  program
    .command('show')
    .description('show a run: its graph with states, durations and attempts, and the model versions it registered')
    .argument('<run>', 'run id (or a unique prefix)')
    .option('--json', 'the run, its nodes, attempts and model versions as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withPlatform(g(), {}, async (p) => {
        const runId = await p.resolveRunId(id);
        const run = (await p.store.getRun(runId))!;
        const [nodes, attempts] = await Promise.all([p.store.getNodes(runId), p.store.getAttempts(runId)]);
        const { renderRun, runModels } = await import('./show.ts');
        const models = await runModels(p.store, runId, nodes);
        if (o.json) return out(JSON.stringify({ run, nodes, attempts, models }, null, 2));
        const driver = await p.driver(run);
        out(renderRun(run, nodes, driver === 'none' ? undefined : driver === 'alive', models));
      });
    });

  program
    .command('logs')
    .description("print what a run's tasks wrote to stdout and stderr")
    .argument('<run>', 'run id (or a unique prefix)')
    .argument('[task]', 'node id, e.g. train or train[3]')
    .option('-f, --follow', 'keep printing until the run ends')
    .option('-a, --attempt <n>', 'only this attempt', positiveInt('--attempt', '2'))
    .action(async (id: string, nodeId: string | undefined, o: { follow?: boolean; attempt?: number }) => {
      await withPlatform(g(), {}, async (p) => {
        const runId = await p.resolveRunId(id);
        if (nodeId && !(await p.store.getNode(runId, nodeId))) throw new BatonError('not_found', `Run ${runId} has no task "${nodeId}". See its nodes with \`baton show ${runId}\`.`);
        let after = 0;
        for (;;) {
          const logs = await p.store.getLogs(runId, { ...(nodeId ? { nodeId } : {}), ...(o.attempt ? { attempt: o.attempt } : {}), afterSeq: after });
          for (const l of logs) {
            const prefix = nodeId ? '' : c.gray(`[${l.nodeId}#${l.attempt}] `);
            const text = l.text.endsWith('\n') ? l.text.slice(0, -1) : l.text;
            for (const line of text.split('\n')) (l.stream === 'stderr' ? process.stderr : process.stdout).write(`${prefix}${line}\n`);
            after = Math.max(after, l.seq ?? after);
          }
          if (!o.follow) break;
          const run = await p.store.getRun(runId);
          if (run?.status !== 'running' && logs.length === 0) break;
          await new Promise((r) => setTimeout(r, 300));
        }
      });
    });

  program
    .command('resume')
    .description('re-run a failed, cancelled or interrupted run, reusing every successful task')
    .argument('<run>', 'run id (or a unique prefix)')
    .addOption(new Option('-e, --executor <name>', 'executor for tasks that do not choose one').choices(['inline', 'threads', 'processes']))
    .option('--cpus <n>', 'CPU slots (default: what the run started with)', positiveInt('--cpus'))
    .option('--gpus <n>', 'GPUs (default: what the run started with)', nonNegativeInt('--gpus'))
    .option('--pool <name=n>', 'pool concurrency limit (repeatable)', collect, [])
    .option('--json', 'print the outcome as JSON')
    .option('-q, --quiet', 'no progress display')
    .action(async (id: string, o: { executor?: ExecutorName; cpus?: number; gpus?: number; pool: string[]; json?: boolean; quiet?: boolean }) => {
      await withPlatform(g(), { ...(o.cpus ? { cpus: o.cpus } : {}), ...(o.gpus !== undefined ? { gpus: o.gpus } : {}), pools: parsePools(o.pool) }, async (p) => {
        const runId = await p.resolveRunId(id);
        const run = (await p.store.getRun(runId))!;
        if (run.status === 'succeeded') throw new BatonError('conflict', `Run ${runId} already succeeded; there is nothing to resume. Start a new run with \`baton run\`.`);
        const [{ Progress }, { interruptible }] = await Promise.all([import('./progress.ts'), import('./interrupt.ts')]);
        const progress = new Progress(runId, run.workflow, { quiet: !!(o.json || o.quiet), verb: 'resumed' });
        const sig = interruptible();
        try {
          const capacity = { ...(o.cpus ? { cpu: o.cpus } : {}), ...(o.gpus !== undefined ? { gpu: o.gpus } : {}) };
          await p.resume(runId, { onEvent: progress.onEvent, signal: sig.signal, capacity, ...(o.executor ? { executor: o.executor } : {}) });
        } finally {
          sig.dispose();
          if (!(o.json || o.quiet)) progress.stop();
        }
        setExit(await printOutcome(p, runId, !!o.json));
      });
    });

  program
    .command('cancel')
    .description('cancel a running run (its engine stops its attempts)')
    .argument('<run>', 'run id (or a unique prefix)')
    .action(async (id: string) => {
      await withPlatform(g(), {}, async (p) => {
        const r = await p.cancel(id);
        out(`run ${r.runId}: ${r.status}`);
      });
    });

  program
    .command('replay')
    .description('re-execute one task locally with exactly the input it got in a run')
    .argument('<run>', 'run id (or a unique prefix)')
    .argument('<task>', 'node id, e.g. train or train[3]')
    .action(async (id: string, nodeId: string) => {
      await withPlatform(g(), {}, async (p) => {
        const { decodeShallow } = await import('../values/codec.ts');
        const r = await p.replay(id, nodeId, {
          log: (stream, text) => (stream === 'stderr' ? process.stderr : process.stdout).write(text),
          onStart: (what) => process.stderr.write(c.gray(`replaying ${what.nodeId} (task ${what.task}) of run ${what.runId} with its recorded input ${what.inputHash.slice(0, 12)}…\n`)),
        });
        if (!r.result.ok) throw new BatonError('task_failed', r.result.message);
        out(JSON.stringify(await decodeShallow(r.result.output, p.artifacts), null, 2));
        if (r.recorded) out(c.gray(r.result.output.hash === r.recorded.hash ? 'same output as in the run' : `output differs from the run's (${r.recorded.hash.slice(0, 12)} → ${r.result.output.hash.slice(0, 12)})`));
      });
    });

  const cache = program.command('cache').description('inspect the task cache');
  cache
    .command('explain')
    .description('say why a task of a run missed the cache (which part of its key changed) or where a hit came from')
    .argument('<run>', 'run id (or a unique prefix)')
    .argument('<task>', 'node id')
    .action(async (id: string, nodeId: string) => {
      await withPlatform(g(), {}, async (p) => {
        const x = await p.explainCache(id, nodeId);
        if (x.kind === 'hit') return out(`${c.cyan('hit')}: "${nodeId}" reused the output of ${x.from} (key ${x.key?.slice(0, 16)}).${x.caveats}`);
        if (x.kind === 'uncached') return out(x.reason === 'disabled' ? `"${nodeId}" ran with caching disabled (cache: false).` : `"${nodeId}" has not been evaluated yet, so it has no cache key.`);
        out(`${c.yellow('miss')}: "${nodeId}" (task ${x.task}) had key ${x.key.slice(0, 16)}, which was not in the cache.`);
        if (!x.closest) return out(`No earlier result of task ${x.task} is cached: this was its first run (or the cache was cleared).`);
        out(`Closest cached result: ${x.closest.runId}/${x.closest.nodeId} (${when(x.closest.createdAt)}). What changed since:`);
        for (const line of x.closest.changes) out(`  - ${line}`);
      });
    });

  datasetCommands(program, (fn) => withPlatform(g(), {}, fn));
  featureCommands(program, (fn, config) => withPlatform(g(), config ?? {}, fn));
  trackingCommands(runs, (fn) => withPlatform(g(), {}, fn));
  modelCommands(program, (fn) => withPlatform(g(), {}, fn));
  studyCommands(program, (fn) => withPlatform(g(), {}, fn));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_CODES.ok;
  const program = buildProgram((c2) => (code = c2));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      return EXIT_CODES.usage;
    }
    process.stderr.write(`${c.red('error')}: ${messageOf(err)}\n`);
    if (!(err instanceof BatonError) && process.env.BATON_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return exitCodeOf(err);
  }
}

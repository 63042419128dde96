/**
 * `baton models list|show|promote|approve|reject|rollback|promotions`: the model registry from the command line.
 * Thin: parsing and rendering only; the rules live in src/registry/service.ts (`platform.models`).
 */
import type { Command } from 'commander';
import type { Platform } from '../../composition/platform.ts';
import { BatonError } from '../../errors.ts';
import { formatGateReport, parseGateMetric, type GateReport } from '../../registry/gate.ts';
import type { ModelDetails, ModelProducer, PromotionOutcome } from '../../registry/service.ts';
import type { ModelInput, PromotionRecord } from '../../ports/registry.ts';
import { c, table, when } from '../format.ts';

type WithPlatform = (fn: (p: Platform) => Promise<void>) => Promise<void>;

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const collect = (v: string, prev: string[]): string[] => [...prev, v];
const num = (n: number): string => String(Number(n.toPrecision(6)));
const metricsText = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k}=${num(v)}`).join(' ');

/** `workflow W, task T (node N), attempt 2 succeeded 2024-… (run succeeded)`: who registered a version. */
function producerText(p: ModelProducer): string {
  const task = p.task ? `task ${p.task}${p.task !== p.nodeId ? ` (node ${p.nodeId})` : ''}` : `node ${p.nodeId}`;
  const attempt = `attempt ${p.attempt}${p.attemptState ? ` ${p.attemptState}` : ''}${p.endedAt ? ` ${when(p.endedAt)}` : ''}`;
  return p.workflow ? `workflow ${p.workflow}, ${task}, ${attempt} (run ${p.runId} ${p.runStatus})` : `${task}, ${attempt} ${c.gray(`(run ${p.runId} is no longer in the store)`)}`;
}

/** A JSON Schema in one line: an object's fields with their types (`(x: number, kind: string)`), else its JSON. */
function schemaText(schema: unknown): string {
  const o = schema as { type?: unknown; properties?: Record<string, { type?: unknown; enum?: unknown }> } | null;
  if (o && typeof o === 'object' && o.properties && typeof o.properties === 'object') {
    return `(${Object.entries(o.properties).map(([k, f]) => `${k}: ${Array.isArray(f?.enum) ? f.enum.map((e) => JSON.stringify(e)).join(' | ') : String(f?.type ?? 'any')}`).join(', ')})`;
  }
  return JSON.stringify(schema).slice(0, 100);
}

const signatureText = (s: { input?: unknown; output?: unknown }): string =>
  [s.input !== undefined ? `input ${schemaText(s.input)}` : '', s.output !== undefined ? `output ${schemaText(s.output)}` : ''].filter(Boolean).join(' → ') || c.gray('none');

/** A dataset version read as `events@2`; any other artifact by the start of its hash. */
const inputText = (i: ModelInput): string => (i.datasets.length ? `${i.datasets.map((x) => `${x.name}@${x.version}`).join('/')} ${c.gray(`(${i.sha256.slice(0, 12)})`)}` : i.sha256.slice(0, 12));

export function renderModel(d: ModelDetails): string {
  const v = d.version;
  const here = d.aliases.filter((a) => a.version === v.version).map((a) => a.alias);
  const l = v.lineage;
  const lines = [
    `${c.bold(`model ${v.name}@${v.version}`)}${here.length ? c.cyan(` (${here.join(', ')})`) : ''}${v.version === d.summary.latest ? c.gray(' (latest)') : c.gray(` (latest is ${d.summary.latest})`)}`,
    `artifact  ${v.artifact}`,
    `flavor    ${v.flavor}`,
    `created   ${when(v.createdAt)}`,
    `metrics   ${metricsText(v.metrics) || c.gray('none')}`,
    `tags      ${Object.entries(v.tags).map(([k, t]) => `${k}=${t}`).join(' ') || c.gray('none')}`,
    `lineage   ${l?.runId ? `run ${l.runId} task ${l.nodeId ?? '?'} (attempt ${l.attempt ?? '?'})` : c.gray('registered outside a workflow')}${l?.codeHash ? `, code ${l.codeHash.slice(0, 12)}` : ''}`,
    ...(d.producer ? [`producer  ${producerText(d.producer)}`] : []),
    ...(d.inputs.length ? [`inputs    ${d.inputs.map(inputText).join(', ')}`] : []),
    ...(v.signature ? [`signature ${signatureText(v.signature)}`] : []),
    ...(v.description ? [`about     ${v.description}`] : []),
    '',
    `aliases   ${d.aliases.length ? d.aliases.map((a) => `${a.alias} → v${a.version}`).join(', ') : c.gray('none')}`,
  ];
  if (d.history.length) {
    lines.push('', c.bold('alias history'));
    lines.push(table(d.history.slice(-20).map((h) => [when(h.at), h.alias, `${h.fromVersion ?? '∅'} → ${h.toVersion}`, h.kind, h.actor, h.reason]), ['when', 'alias', 'move', 'kind', 'who', 'why']));
  }
  const pending = d.promotions.filter((p) => p.status === 'pending');
  if (pending.length) lines.push('', `${c.yellow('pending')}  ${pending.map((p) => `${p.id}: v${p.version} → ${p.alias} (by ${p.requestedBy})`).join('; ')}`);
  return lines.join('\n');
}

function renderOutcome(o: PromotionOutcome): string {
  const lines: string[] = [];
  if (o.report) lines.push(formatGateReport(o.report));
  if (o.status === 'unchanged') lines.push(`${c.cyan('unchanged')}  ${o.name}@${o.alias} is already v${o.version}`);
  else if (o.status === 'pending') lines.push(`${c.yellow('pending')}  ${o.name} v${o.version} → ${o.alias}: promotion ${c.bold(o.promotion!.id)} awaits approval (\`baton models approve ${o.promotion!.id}\` or \`baton models reject ${o.promotion!.id} --reason …\`)`);
  else lines.push(`${c.green('promoted')}  ${o.name}@${o.alias}: ${o.from === undefined ? '∅' : `v${o.from}`} → v${o.version}${o.promotion ? c.gray(` (${o.promotion.id})`) : ''}`);
  return lines.join('\n');
}

const promotionRow = (p: PromotionRecord): string[] => [p.id, p.name, `v${p.version} → ${p.alias}`, p.status, p.requestedBy, when(p.createdAt), p.decidedBy ?? '', p.decisionReason ?? p.reason];

export function modelCommands(program: Command, withPlatform: WithPlatform): void {
  const models = program.command('models').description('model registry: list, show, promote through gates, approve, reject, roll back');

  models
    .command('list')
    .description('list models with their latest version and aliases')
    .option('--json', 'JSON lines')
    .action(async (o: { json?: boolean }) => {
      await withPlatform(async (p) => {
        const list = await p.models.list();
        if (o.json) return list.forEach((m) => out(JSON.stringify(m)));
        if (list.length === 0) return out(c.gray('No models yet. Register one with platform.models.register(name, { artifact, flavor, metrics }).'));
        out(table(list.map((m) => [m.name, String(m.latest), String(m.versions), Object.entries(m.aliases).map(([a, v]) => `${a}→${v}`).join(' '), when(m.updatedAt)]), ['model', 'latest', 'versions', 'aliases', 'updated']));
      });
    });

  models
    .command('show')
    .description('a version with its metrics, lineage and the model\'s aliases and their history')
    .argument('<ref>', 'NAME, NAME@VERSION, NAME@latest or NAME@ALIAS')
    .option('--versions', 'list every version of the model instead')
    .option('--json', 'as JSON')
    .action(async (ref: string, o: { json?: boolean; versions?: boolean }) => {
      await withPlatform(async (p) => {
        if (o.versions) {
          const name = ref.includes('@') ? ref.slice(0, ref.lastIndexOf('@')) : ref;
          const versions = await p.models.versions(name);
          if (o.json) return versions.forEach((v) => out(JSON.stringify(v)));
          const aliases = await p.store.getModelAliases(name);
          return out(table(versions.map((v) => [String(v.version), aliases.filter((a) => a.version === v.version).map((a) => a.alias).join(','), v.flavor, metricsText(v.metrics), when(v.createdAt), v.lineage?.runId ? `${v.lineage.runId} ${v.lineage.nodeId ?? ''}` : c.gray('registered')]), ['version', 'aliases', 'flavor', 'metrics', 'created', 'produced by']));
        }
        const d = await p.models.show(ref);
        out(o.json ? JSON.stringify(d, null, 2) : renderModel(d));
      });
    });

  models
    .command('promote')
    .description('move an alias (default champion) to a version, through an optional gate and approval')
    .argument('<name>', 'model name')
    .argument('<version>', 'version number')
    .option('--alias <alias>', 'alias to move', 'champion')
    .option('--gate <metric>', 'gate metric NAME:max|min[:delta=N][:regress=F][:threshold=N] (repeatable)', collect, [])
    .option('--require-approval', 'record a pending promotion; approve it with `baton models approve ID`')
    .option('--reason <text>', 'why (kept in the alias history)')
    .option('--actor <who>', 'who (default $USER@host)')
    .option('--json', 'the outcome as JSON')
    .action(async (name: string, version: string, o: { alias: string; gate: string[]; requireApproval?: boolean; reason?: string; actor?: string; json?: boolean }) => {
      const gate = o.gate.length ? { metrics: o.gate.map(parseGateMetric) } : undefined;
      await withPlatform(async (p) => {
        const outcome = await p.models.promote(name, version, { alias: o.alias, ...(gate ? { gate } : {}), ...(o.requireApproval ? { requireApproval: true } : {}), ...(o.reason ? { reason: o.reason } : {}), ...(o.actor ? { actor: o.actor } : {}) });
        out(o.json ? JSON.stringify(outcome) : renderOutcome(outcome));
      });
    });

  models
    .command('approve')
    .description('approve a pending promotion (its gate runs again) and move the alias')
    .argument('<id>', 'promotion id (see `baton models promotions`)')
    .option('--reason <text>', 'why')
    .option('--actor <who>', 'who (default $USER@host)')
    .option('--json', 'the outcome as JSON')
    .action(async (id: string, o: { reason?: string; actor?: string; json?: boolean }) => {
      await withPlatform(async (p) => {
        const outcome = await p.models.approve(id, { ...(o.reason ? { reason: o.reason } : {}), ...(o.actor ? { actor: o.actor } : {}) });
        out(o.json ? JSON.stringify(outcome) : renderOutcome(outcome));
      });
    });

  models
    .command('reject')
    .description('reject a pending promotion (the alias does not move)')
    .argument('<id>', 'promotion id')
    .option('--reason <text>', 'why (required)')
    .option('--actor <who>', 'who (default $USER@host)')
    .action(async (id: string, o: { reason?: string; actor?: string }) => {
      await withPlatform(async (p) => {
        const r = await p.models.reject(id, { reason: o.reason ?? '', ...(o.actor ? { actor: o.actor } : {}) });
        out(`${c.red('rejected')}  promotion ${r.id}: ${r.name} v${r.version} → ${r.alias} stays where it was`);
      });
    });

  models
    .command('rollback')
    .description('move an alias back to the version it held before, from its history')
    .argument('<name>', 'model name')
    .option('--alias <alias>', 'alias to roll back', 'champion')
    .option('--reason <text>', 'why (required)')
    .option('--actor <who>', 'who (default $USER@host)')
    .action(async (name: string, o: { alias: string; reason?: string; actor?: string }) => {
      await withPlatform(async (p) => {
        const r = await p.models.rollback(name, { alias: o.alias, reason: o.reason ?? '', ...(o.actor ? { actor: o.actor } : {}) });
        out(`${c.green('rolled back')}  ${r.name}@${r.alias}: v${r.from} → v${r.to}`);
      });
    });

  models
    .command('promotions')
    .description('list promotions (pending first to decide), newest first')
    .option('--model <name>', 'only this model')
    .option('--status <status>', 'pending, approved or rejected')
    .option('--json', 'JSON lines')
    .action(async (o: { model?: string; status?: string; json?: boolean }) => {
      if (o.status && !['pending', 'approved', 'rejected'].includes(o.status)) throw new BatonError('usage', `--status must be pending, approved or rejected, not "${o.status}".`);
      await withPlatform(async (p) => {
        const list = await p.models.promotions({ ...(o.model ? { name: o.model } : {}), ...(o.status ? { status: o.status as PromotionRecord['status'] } : {}) });
        if (o.json) return list.forEach((x) => out(JSON.stringify(x)));
        if (list.length === 0) return out(c.gray('No promotions.'));
        out(table(list.map(promotionRow), ['id', 'model', 'promotion', 'status', 'requested by', 'at', 'decided by', 'reason']));
        const refused = list.find((x) => x.status === 'rejected' && x.decidedBy === 'gate' && x.gateReport);
        if (refused && !o.status) out(c.gray(`\nlast gate refusal (${refused.id}):\n${formatGateReport(refused.gateReport as GateReport)}`));
      });
    });
}

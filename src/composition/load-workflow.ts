/**
 * Loads a workflow file (TypeScript or JavaScript) and finds the workflow it exports. Load failures become
 * `workflow_load` errors naming the file and the first line of the cause.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BatonError, messageOf } from '../errors.ts';
import { isWorkflow, type Workflow } from '../sdk/workflow.ts';
import { importUserModule } from '../runtime/user-module.ts';

export async function loadWorkflowFile(file: string, name?: string): Promise<{ workflow: Workflow; file: string }> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new BatonError('workflow_load', `Workflow file ${file} does not exist (looked at ${path}). Check the path; workflow files are .ts or .js modules that export a workflow.`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await importUserModule(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof BatonError) throw new BatonError(err.code, `Workflow file ${file}: ${err.message}`, { cause: err });
    const msg = messageOf(err).split('\n').slice(0, 6).join('\n');
    if (/require\(\) ES Module|ERR_REQUIRE_ESM|ERR_REQUIRE_CYCLE_MODULE|Cannot use import statement outside a module/.test(msg)) {
      throw new BatonError('workflow_load', `Workflow file ${file} failed to load as an ES module: ${msg.split('\n')[0]}\nWorkflow files are ES modules: add "type": "module" to the nearest package.json, or name the file .mts.`, { cause: err });
    }
    throw new BatonError('workflow_load', `Workflow file ${file} failed to load: ${msg}\nFix the error above and run again.`, { cause: err });
  }
  const found = Object.entries(mod).filter(([, v]) => isWorkflow(v)) as [string, Workflow][];
  if (found.length === 0) {
    throw new BatonError('workflow_load', `Workflow file ${file} exports no workflow. Export one, e.g. \`export default workflow({ name: 'my-flow' }, () => { ... })\`.`);
  }
  if (name) {
    const hit = found.find(([exp, wf]) => wf.name === name || exp === name);
    if (!hit) throw new BatonError('workflow_load', `Workflow file ${file} has no workflow named "${name}". It exports: ${found.map(([, wf]) => wf.name).join(', ')}.`);
    return { workflow: hit[1], file: path };
  }
  const def = found.find(([exp]) => exp === 'default');
  if (def) return { workflow: def[1], file: path };
  if (found.length > 1) {
    throw new BatonError('workflow_load', `Workflow file ${file} exports several workflows (${found.map(([, wf]) => wf.name).join(', ')}). Pick one with --workflow NAME, or export one as default.`);
  }
  return { workflow: found[0]![1], file: path };
}

/**
 * `workflow(...)`: names a graph of tasks and its parameters. The builder runs when a run starts, with the parsed
 * parameter values, so plain `if`s and loops over parameters shape the graph; `map`, `when` and `dynamic` cover
 * what is only known at run time.
 */
import { z } from 'zod';
import { captureCallSite } from '../codehash/callsite.ts';
import { BatonError, messageOf } from '../errors.ts';
import { GraphBuilder, withBuilder, type BuiltGraph, type DynamicFn, type Unwire } from './build.ts';
import { toBinding } from './refs.ts';
import { checkParamKeys } from './param-keys.ts';
import type { SourceLocation } from './task.ts';

export interface WorkflowOptions<P extends z.ZodType> {
  name: string;
  description?: string;
  /** Parameters with defaults: `z.object({ seed: z.number().default(1) })`. */
  params?: P;
  /** Concurrency limits of named pools used by its tasks, e.g. `{ gpu: 1, db: 4 }`. */
  pools?: Record<string, number>;
}

export interface Workflow<P extends z.ZodType = z.ZodType, O = unknown> {
  readonly kind: 'workflow';
  readonly name: string;
  readonly description: string | undefined;
  readonly paramsSchema: P;
  readonly pools: Record<string, number>;
  readonly location: SourceLocation | undefined;
  /** Parses raw parameters (throws params_invalid naming the parameter) and builds the graph. */
  build(params: unknown): { params: z.output<P>; graph: BuiltGraph };
  /** Phantom: the workflow's output type, for the typed client. */
  readonly __output?: O;
}

const EMPTY = z.object({});

export function workflow<P extends z.ZodType = typeof EMPTY, R = unknown>(
  options: WorkflowOptions<P>,
  builder: (params: z.output<P>) => R,
): Workflow<P, Unwire<R>> {
  if (!options.name || !/^[A-Za-z0-9_.-]+$/.test(options.name)) {
    throw new TypeError(`Workflow name ${JSON.stringify(options.name)} is invalid: use letters, digits, '_', '.' or '-'.`);
  }
  const paramsSchema = (options.params ?? EMPTY) as P;
  return {
    kind: 'workflow',
    name: options.name,
    description: options.description,
    paramsSchema,
    pools: options.pools ?? {},
    location: captureCallSite(['/src/sdk/']),
    build(raw: unknown) {
      checkParamKeys(options.name, paramsSchema, raw);
      const parsed = paramsSchema.safeParse(raw ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues
          .map((i) => `parameter "${i.path.join('.') || '(all)'}": ${i.message}`)
          .join('; ');
        throw new BatonError('params_invalid', `Workflow "${options.name}" got invalid parameters: ${issues}. Fix the value with --param NAME=VALUE.`);
      }
      const dynamicBuilders = new Map<string, DynamicFn>();
      const b = new GraphBuilder(options.name, dynamicBuilders);
      let out: R;
      try {
        out = withBuilder(b, () => builder(parsed.data as z.output<P>));
      } catch (err) {
        // A builder that throws is a bad workflow (exit 3), not a Baton bug (70); Baton's own errors keep their code.
        if (err instanceof BatonError) throw err;
        throw new BatonError('workflow_invalid', `The builder of workflow "${options.name}" threw: ${messageOf(err)}. Fix the workflow's builder function: it runs when a run starts, with the parsed parameters, and only wires tasks.`, { cause: err });
      }
      return {
        params: parsed.data as z.output<P>,
        graph: { nodes: b.nodes, output: toBinding(out), tasks: b.tasks, dynamicBuilders },
      };
    },
  };
}

export function isWorkflow(value: unknown): value is Workflow {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'workflow';
}

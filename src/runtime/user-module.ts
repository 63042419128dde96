/**
 * Importing a user's module: a workflow file, a feature definitions file, or a task module in an executor's worker.
 * Baton itself runs as compiled JavaScript, so TypeScript support (tsx) is registered only when a user's module is
 * TypeScript, once per thread, just before the first such import; JavaScript workflows load without it.
 * When Baton runs from its own sources (its tests, `--conditions=baton-source`), a TypeScript loader is already
 * active, since that is how this very file was loaded.
 */
import { fileURLToPath } from 'node:url';

/** True when Baton's own modules are TypeScript sources (in-repo use), false when they are the compiled dist/. */
export const fromSource = import.meta.url.endsWith('.ts');

/** A module next to `base` (an import.meta.url): `name.ts` from source, `name.js` from dist. */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${fromSource ? '.ts' : '.js'}`, base);
}

const TYPESCRIPT = /\.(c|m)?tsx?$/i;
let registering: Promise<void> | undefined;

/** Registers tsx's ESM and CommonJS hooks in this thread (once). */
export function registerTypeScript(): Promise<void> {
  registering ??= (async () => {
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    esm.register();
    cjs.register();
  })();
  return registering;
}

/** `import(specifier)` (a file: URL), with tsx registered first when the file is TypeScript. */
export async function importUserModule(specifier: string): Promise<unknown> {
  const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier;
  if (!fromSource && TYPESCRIPT.test(path)) await registerTypeScript();
  return import(specifier);
}

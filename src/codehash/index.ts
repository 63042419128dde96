// Code hashing for the task cache: where a task was defined, what its code hashes to, and why a hash changed.
export { captureCallSite, type CallSite } from './callsite.ts';
export { computeCodeHash, type CodeHash, type CodeHashOptions } from './hash.ts';
export { diffCodeHash } from './diff.ts';

/** Handles to large values (files, folders, datasets) — defined with the plain-data specs in src/spec/. */
export * from '../spec/handles.ts';

/** `baton/registry`: the model registry. Versions, aliases with history, gated promotions, approvals, rollback. */
export { ModelRegistry, GateRefused, defaultActor, checkAlias, checkModelName } from '../registry/service.ts';
export type { ModelRegistryDeps, RegisterModelOptions, PromoteOptions, PromotionOutcome, AliasMoveOutcome, ModelDetails, ModelProducer, ActorOptions } from '../registry/service.ts';
export { evaluateGate, formatGateReport, parseGateMetric, checkGate } from '../registry/gate.ts';
export type { Gate, GateMetric, GateReport, GateCheck } from '../registry/gate.ts';
export { signatureOf, signatureOfTask, jsonSchemaOf, toSignature } from '../registry/signature.ts';
export type { ModelSignature, SignatureSource } from '../registry/signature.ts';
export { modelRegistration, isModelRegistration, ModelRegistrationSchema } from '../registry/registration.ts';
export type { ModelRegistration } from '../registry/registration.ts';
export type { ModelVersionRecord } from '../ports/registry.ts';

/** The model registry: versions, aliases with history, gated promotions with approvals, rollback. */
export { ModelRegistry, GateRefused, defaultActor, checkAlias, checkModelName } from './service.ts';
export type { ModelRegistryDeps, RegisterModelOptions, PromoteOptions, PromotionOutcome, AliasMoveOutcome, ModelDetails, ModelProducer, ActorOptions } from './service.ts';
export { evaluateGate, formatGateReport, parseGateMetric, checkGate } from './gate.ts';
export type { Gate, GateMetric, GateReport, GateCheck } from './gate.ts';
export { signatureOf, signatureOfTask, jsonSchemaOf, toSignature } from './signature.ts';
export type { ModelSignature, SignatureSource } from './signature.ts';
export { modelRegistration, isModelRegistration, attemptRegistrationId, ModelRegistrationSchema } from './registration.ts';
export type { ModelRegistration } from './registration.ts';

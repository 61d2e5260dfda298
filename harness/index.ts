/**
 * The end-to-end harness's public API (for the tests, the benchmark and the demo). Bottom up:
 * intrinsics + assembly read a synthesized stack; lambda-container, lambda-service and waiter
 * emulate Lambda and Step Functions; provider-framework runs the CDK provider on them;
 * custom-resource-requests and cloudformation play CloudFormation; fake-service-catalog is the
 * Service Catalog the handler talks to.
 */
export * from './assembly';
export * from './cloudformation';
export type { CfnRequest, CfnRequestView, CfnResponse, EventResult, Redelivery, RequestPhase } from './custom-resource-requests';
export * from './fake-service-catalog';
export * from './fake-step-functions';
export * from './local-services';
export * from './provider-options';
export type { LogLine } from './lambda-container';
export { ProviderFramework, type CrashPlan, type UserFunction, type UserInvocation } from './provider-framework';
export { StepFunctionsWaiter, type Execution, type ExecutionStatus } from './waiter';

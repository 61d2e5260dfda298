/**
 * The end-to-end harness's public API (for the tests, the benchmark and the demo). Bottom up, a folder each:
 * template/ reads a synthesized stack (intrinsics, assembly, and the provider options it adds);
 * runtimes/ emulates Lambda and Step Functions (lambda-container, lambda-service, waiter) and runs
 * the CDK provider framework on them (provider-framework); cloudformation/ plays CloudFormation
 * (custom-resource-requests, lifecycle-driver); fakes/ are the Service Catalog
 * the handler talks to, over AWS JSON on 127.0.0.1, the CloudFormation call it makes
 * (fake-cloudformation), and AWS's own DynamoDB Local for the provider's ledger (dynamodb-local).
 */
export { RESOURCE_TYPE } from '../lib/contract';
export * from './template/assembly';
export * from './cloudformation/lifecycle-driver';
export type {
  CfnRequest,
  CfnRequestView,
  CfnResponse,
  EventResult,
  LateCopy,
  Redelivery,
  RedeliveryMoment,
  RequestPhase,
} from './cloudformation/custom-resource-requests';
export * from './fakes/dynamodb-local';
export * from './fakes/fake-cloudformation';
export * from './fakes/fake-service-catalog';
export * from './fakes/local-services';
export * from './template/provider-options';
export type { LogLine } from './runtimes/lambda-container';
export {
  CREATE_FAILED_MARKER,
  ProviderFramework,
  type CrashPlan,
  type UserFunction,
  type UserInvocation,
} from './runtimes/provider-framework';
export { StepFunctionsWaiter, type Execution, type ExecutionStatus } from './runtimes/waiter';
export * from './fakes/quota';
export { TooManyRequestsError } from './runtimes/lambda-service';

/**
 * The instances that share a stack's provider: the synth-time check that its reserved concurrency covers them all, and their number, which the handlers pace their calls by.
 */
import { CfnResource, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { HANDLER_ENTRY, RESOURCE_TYPE, STACK_INSTANCES_ENV } from './contract';

/** Marks a provider that has the check already (by any copy of this library loaded in the app). */
const CHECKED = Symbol.for('cdk-provisioned-product-properties.concurrencyChecked');
/** Marks a provider whose handlers are told the stack's size already. */
const SIZED = Symbol.for('cdk-provisioned-product-properties.stackSized');

/**
 * Adds to `provider` (once) a node validation that fails at synth when the reserved concurrency of
 * its functions is below the number of ProvisionedProductProperties in its stack, all of which it
 * serves: each instance needs one execution of each function at a time, so a stack that creates or
 * updates them together would be throttled. Both are read when the app is validated, so that the
 * instances added after the first are counted; a concurrency that is a token is not checked.
 */
export function checkConcurrencyCoversInstances(provider: IConstruct): void {
  const flags = provider as unknown as Record<symbol, unknown>;
  if (flags[CHECKED] === true) return;
  Object.defineProperty(provider, CHECKED, { value: true });
  provider.node.addValidation({
    validate: () => {
      const concurrency = reservedConcurrency(provider);
      if (concurrency === undefined) return [];
      const stack = Stack.of(provider);
      const instances = instancesIn(stack);
      if (concurrency >= instances.length) return [];
      return [
        `reservedConcurrency ${concurrency} is less than the ${instances.length} ProvisionedProductProperties in stack ${stack.stackName} that share its provider (${instances.join(', ')}): ` +
          'every instance may run at once and needs one execution of each of the provider functions, so a deployment that changes them together would be throttled, wait and can fail. ' +
          `Set reservedConcurrency to at least ${instances.length} (on the first instance, or the same on every instance), or leave it unset.`,
      ];
    },
  });
}

/** The paths of the ProvisionedProductProperties in `stack` (all of which share its provider). */
export function instancesIn(stack: Stack): string[] {
  return (
    stack.node
      .findAll()
      .filter((c) => CfnResource.isCfnResource(c) && c.cfnResourceType === RESOURCE_TYPE && Stack.of(c) === stack)
      // The CfnResource is the default child of the instance's CustomResource: name the instance.
      .map((c) => c.node.scope?.node.scope?.node.path ?? c.node.path)
  );
}

/**
 * Tells the provider's handler functions (once) how many instances share them, counted when the
 * template is written so that the instances added after the first are counted: each handler paces
 * its Service Catalog calls to its share of the stack's (lambda/pacing.ts).
 */
export function shareStackSize(provider: IConstruct): void {
  const flags = provider as unknown as Record<symbol, unknown>;
  if (flags[SIZED] === true) return;
  Object.defineProperty(provider, SIZED, { value: true });
  const count = Lazy.string({ produce: () => String(instancesIn(Stack.of(provider)).length) });
  for (const c of provider.node.findAll()) {
    // The handler functions run the bundle's entry points (the framework's run its own).
    if (c instanceof lambda.Function && HANDLERS.has(String((c.node.defaultChild as lambda.CfnFunction).handler))) {
      c.addEnvironment(STACK_INSTANCES_ENV, count);
    }
  }
}

// Not the drift check: one function for the whole stack, reading its products one after another.
const HANDLERS = new Set<string>([HANDLER_ENTRY.onEvent, HANDLER_ENTRY.isComplete]);

/** The smallest reserved concurrency set on the provider's functions, when one is a literal number. */
function reservedConcurrency(provider: IConstruct): number | undefined {
  const values = provider.node
    .findAll()
    .filter((c) => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::Lambda::Function')
    // The drift check runs one at a time for the whole stack, not once per instance.
    .filter((fn) => (fn as lambda.CfnFunction).handler !== HANDLER_ENTRY.checkDrift)
    .map((fn) => (fn as lambda.CfnFunction).reservedConcurrentExecutions)
    .filter((n): n is number => typeof n === 'number' && !Token.isUnresolved(n));
  return values.length > 0 ? Math.min(...values) : undefined;
}

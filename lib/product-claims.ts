/**
 * The app-wide registry of product ids: two ProvisionedProductProperties on one product would fight over it.
 */
import { Annotations, Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { show } from './rules';

/** Per app (keyed by the construct tree's root): account, region and product id → the constructs that claim it, first first. */
const claims = new WeakMap<IConstruct, Map<string, IConstruct[]>>();

/** The id of the warning for a token product id that two instances share. */
export const SHARED_TOKEN_WARNING = 'cdk-provisioned-product-properties:sharedProductIdToken';

/** What two instances on one product do to it, and what to do instead. */
const WHY = 'Two ProvisionedProductProperties on one product would overwrite each other and restore the wrong values on delete';

/**
 * Records that `instance` manages `productId` (a literal or a token) in its stack's account and
 * region. When an earlier instance of the app claims the same id there, this instance (the
 * repeat, reported once) gets a node validation that fails at synth naming both construct paths,
 * or, for a token (whose value is not known at synth), a warning.
 *
 * Product ids are per account and region: the same id in stacks of other accounts or regions is
 * another product. A stack's account or region that is a token (an environment-agnostic stack)
 * is compared as the token's text, so two environment-agnostic stacks count as one place.
 */
export function claimProduct(instance: IConstruct, productId: string): void {
  const root = instance.node.root;
  let byKey = claims.get(root);
  if (!byKey) claims.set(root, (byKey = new Map<string, IConstruct[]>()));
  const stack = Stack.of(instance);
  const key = JSON.stringify([stack.account, stack.region, productId]);
  const earlier = byKey.get(key) ?? [];
  byKey.set(key, [...earlier, instance]);
  if (earlier.length === 0) return;

  const first = earlier[0].node.path;
  const where = placeOf(stack);
  if (Token.isUnresolved(productId)) {
    Annotations.of(instance).addWarningV2(
      SHARED_TOKEN_WARNING,
      `provisionedProductId is the same token as that of ${first}, ${where}: it is only known at deploy, and if it names one product, ${WHY}. ` +
        'Check that the two name different products, or keep one and merge their owner and launchRole.',
    );
    return;
  }
  instance.node.addValidation({
    validate: () => [
      `provisionedProductId ${show(productId)} is also managed by ${first}, ${where}. ${WHY}: keep one and merge their owner and launchRole.`,
    ],
  });
}

/** The account and region of `stack`, in words, as the place two claims share. */
function placeOf(stack: Stack): string {
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
    return 'in the same account and region as far as synth can tell (an environment-agnostic stack: give the stacks an env if they deploy to different accounts or regions)';
  }
  return `in the same account (${stack.account}) and region (${stack.region})`;
}

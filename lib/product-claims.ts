/**
 * The app-wide registry of literal product ids: two ProvisionedProductProperties on one product would fight over it.
 */
import type { IConstruct } from 'constructs';

/** Per app (keyed by the construct tree's root): product id → the constructs that claim it. */
const claims = new WeakMap<IConstruct, Map<string, IConstruct[]>>();

/**
 * Records that `instance` manages `productId`, and adds a node validation that fails at synth,
 * naming both construct paths, when another instance in the same app claims the same product.
 */
export function claimProduct(instance: IConstruct, productId: string): void {
  const root = instance.node.root;
  let byId = claims.get(root);
  if (!byId) claims.set(root, (byId = new Map<string, IConstruct[]>()));
  const owners = byId.get(productId) ?? [];
  owners.push(instance);
  byId.set(productId, owners);
  instance.node.addValidation({
    validate: () => {
      const others = owners.filter((o) => o !== instance);
      if (others.length === 0) return [];
      return [
        `provisionedProductId ${JSON.stringify(productId)} is also managed by ${others.map((o) => o.node.path).join(', ')}. ` +
          'Two ProvisionedProductProperties on one product would overwrite each other and restore the wrong values on delete: keep one and merge their owner and launchRole.',
      ];
    },
  });
}

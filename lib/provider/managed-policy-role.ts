/**
 * Roles whose permissions live in a customer managed policy the construct creates, never in an inline policy (cdk-nag IAMNoInlinePolicy).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** The construct id of the managed policy under its role. */
const POLICY_ID = 'Policy';

/**
 * An iam.Role that keeps every statement granted to it (by the construct, by `grant*` methods,
 * by the provider framework) in one customer managed policy attached to it, instead of the
 * inline `DefaultPolicy` an iam.Role creates: the same statements, so no permission is widened.
 * The policy is a child of the role, so whatever depends on the role (its functions) is created
 * after the policy is attached, as with the inline policy.
 */
export class ManagedPolicyRole extends iam.Role {
  private managedPolicy?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, props);
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.managedPolicy ??= new iam.ManagedPolicy(this, POLICY_ID, {
      description: truncate(`Permissions of ${this.node.path}`),
      roles: [this],
    });
    this.managedPolicy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.managedPolicy };
  }
}

/**
 * Moves the inline `DefaultPolicy` of a role the construct does not create (the provider
 * framework's waiter role) into a customer managed policy with the very same document, attached to
 * the role, and takes the inline policy out of the tree. The document object is shared, so a
 * statement added to the role later still lands in the managed policy. Does nothing when the role
 * has no inline policy.
 */
export function moveInlinePolicyToManaged(role: iam.Role): void {
  const inline = role.node.tryFindChild('DefaultPolicy');
  if (!(inline instanceof iam.Policy)) return;
  new iam.ManagedPolicy(role, POLICY_ID, {
    description: truncate(`Permissions of ${role.node.path}`),
    document: inline.document,
    roles: [role],
  });
  role.node.tryRemoveChild(inline.node.id);
}

/** IAM's limit on a policy description (1,000 characters). */
function truncate(text: string): string {
  return text.length <= 1000 ? text : `${text.slice(0, 997)}...`;
}

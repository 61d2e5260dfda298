/**
 * The least-privilege roles of the two handler functions: onEvent only reads products, isComplete writes and passes roles (their ledger grants: ledger-table.ts).
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ManagedPolicyRole } from './managed-policy-role';

/** The two roles, and the PassRole resource the isComplete role holds. */
export interface HandlerRoles {
  readonly onEvent: iam.Role;
  readonly isComplete: iam.Role;
  /** The roles isComplete may pass to Service Catalog: every role of the stack's account. */
  readonly passRoleResource: string;
}

/**
 * Creates the roles. None of the Service Catalog actions supports resource-level permissions, so
 * their resource is '*'; the handlers need account-level access to read and update products other
 * principals own, so there is no servicecatalog:userLevel condition.
 */
export function createHandlerRoles(scope: Construct): HandlerRoles {
  const role = (id: string, description: string, statements: iam.PolicyStatement[]) => {
    const created = new ManagedPolicyRole(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
    for (const statement of statements) created.addToPolicy(statement);
    return created;
  };

  const onEvent = role('OnEventRole', 'ProvisionedProductProperties onEvent: reads the owner and launch role of provisioned products', [
    new iam.PolicyStatement({
      sid: 'ReadProvisionedProducts',
      actions: ['servicecatalog:DescribeProvisionedProduct', 'servicecatalog:SearchProvisionedProducts'],
      resources: ['*'],
    }),
  ]);

  // Setting LAUNCH_ROLE hands a role to Service Catalog, and Delete restores a prior launch role
  // only known at deploy time: passing roles of this account is allowed, to Service Catalog only.
  const passRoleResource = Stack.of(scope).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' });
  const isComplete = role(
    'IsCompleteRole',
    'ProvisionedProductProperties isComplete: updates the owner and launch role of provisioned products',
    [
      new iam.PolicyStatement({
        sid: 'UpdateProvisionedProductProperties',
        actions: ['servicecatalog:UpdateProvisionedProductProperties', 'servicecatalog:DescribeRecord'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'PassLaunchRolesToServiceCatalog',
        actions: ['iam:PassRole'],
        resources: [passRoleResource],
        conditions: { StringEquals: { 'iam:PassedToService': 'servicecatalog.amazonaws.com' } },
      }),
    ],
  );
  return { onEvent, isComplete, passRoleResource };
}

/**
 * The names test/integ/app.ts and the two AWS scripts share: the stacks, the step's context key, the outputs. Import-free, so that a script can refuse quickly without loading the CDK.
 */

export const INTEG_STACK = 'ProvisionedProductPropertiesInteg';
export const CONTRACT_FIXTURE_STACK = 'ProvisionedProductPropertiesContractFixture';
/** The CDK context key that says which step of the integration run to synthesize (default `managed`). */
export const STEP_CONTEXT = 'integ:step';

/** Outputs of both stacks: the fixture (test/integ/fixture.ts). */
export const FIXTURE_OUTPUTS = {
  productId: 'ProvisionedProductId',
  ownerA: 'OwnerARoleArn',
  ownerB: 'OwnerBRoleArn',
  launchRole: 'LaunchRoleArn',
  priorLaunchRole: 'PriorLaunchRoleArn',
} as const;

/** Outputs of the integration stack at the steps with the construct. */
export const CONSTRUCT_OUTPUTS = {
  recordId: 'RecordId',
  previousOwner: 'PreviousOwnerArn',
  previousLaunchRole: 'PreviousLaunchRoleArn',
} as const;

/** Outputs of the contract fixture stack only. */
export const CONTRACT_OUTPUTS = {
  noPassRoleRoleArn: 'NoPassRoleCallerArn',
  ledgerTableName: 'LedgerTableName',
} as const;

/**
 * The names of the test stacks' outputs, which test/integ/app.ts writes and the two AWS scripts read.
 */

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
  stateMachineArn: 'ExecutionsStateMachineArn',
  noPassRoleRoleArn: 'NoPassRoleCallerArn',
} as const;

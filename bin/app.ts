#!/usr/bin/env node
/**
 * Example app: hands a provisioned product to a platform role and gives it a launch role.
 *
 *   npx cdk synth                                   # offline, with the defaults below
 *   npx cdk deploy -c provisionedProductId=pp-... -c ownerArn=arn:aws:iam::...:role/... \
 *                  -c launchRoleArn=arn:aws:iam::...:role/...
 */
import { App, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { AcceptLanguage, Owner, ProvisionedProductProperties } from '../lib';

/** Settings read from CDK context (`-c name=value`), with placeholders that synthesize offline. */
export interface ExampleSettings {
  readonly provisionedProductId: string;
  readonly ownerArn: string;
  readonly launchRoleArn?: string;
  readonly acceptLanguage?: AcceptLanguage;
  readonly restoreOnDelete: boolean;
}

export class ProvisionedProductOwnershipStack extends Stack {
  constructor(scope: Construct, id: string, settings: ExampleSettings, props?: StackProps) {
    super(scope, id, props);
    const ownership = new ProvisionedProductProperties(this, 'PlatformOwnership', {
      provisionedProductId: settings.provisionedProductId,
      owner: Owner.fromArn(settings.ownerArn),
      launchRole: settings.launchRoleArn ? iam.Role.fromRoleArn(this, 'LaunchRole', settings.launchRoleArn) : undefined,
      acceptLanguage: settings.acceptLanguage,
      restoreOnDelete: settings.restoreOnDelete,
    });
    new CfnOutput(this, 'RecordId', { value: ownership.recordId });
    new CfnOutput(this, 'PreviousOwnerArn', { value: ownership.previousOwnerArn });
    new CfnOutput(this, 'PreviousLaunchRoleArn', { value: ownership.previousLaunchRoleArn });
  }
}

/** Reads the example's settings from context; the defaults are placeholders for an offline synth. */
export function settingsFromContext(app: App): ExampleSettings {
  const get = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    // -c values are strings; cdk.json may hold booleans or numbers.
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  const launchRoleArn = get('launchRoleArn');
  return {
    provisionedProductId: get('provisionedProductId') ?? 'pp-examplexample1',
    ownerArn: get('ownerArn') ?? 'arn:aws:iam::123456789012:role/PlatformAdmin',
    launchRoleArn: launchRoleArn === 'none' ? undefined : (launchRoleArn ?? 'arn:aws:iam::123456789012:role/ServiceCatalogLaunchRole'),
    acceptLanguage: get('acceptLanguage') as AcceptLanguage | undefined,
    restoreOnDelete: get('restoreOnDelete') !== 'false',
  };
}

if (require.main === module) {
  const app = new App();
  new ProvisionedProductOwnershipStack(app, 'ProvisionedProductOwnership', settingsFromContext(app), {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  app.synth();
}

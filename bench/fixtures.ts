/**
 * What every bench script shares: the account its fake products live in, the principals it hands
 * them between, and the SDK's quiet flag (the benches run on whatever Node the machine has).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const ACCOUNT = '123456789012';
/** The owner every bench product starts with (its prior). */
export const ORIGINAL_OWNER = `arn:aws:iam::${ACCOUNT}:user/alice`;
/** The owner a Create hands the products to. */
export const ADMIN = `arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`;
/** The owner an Update hands them to next. */
export const OPS = `arn:aws:iam::${ACCOUNT}:role/Ops`;

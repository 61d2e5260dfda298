/**
 * Contract behaviours of Service Catalog's reads: what DescribeProvisionedProduct and SearchProvisionedProducts report, as the handler reads the product's status, ARN, owner and launch role.
 */
import { DescribeProvisionedProductCommand, SearchProvisionedProductsCommand } from '@aws-sdk/client-service-catalog';
import { HANDLER_TIMING } from '../../lib/contract';
import {
  type Behaviour,
  Difference,
  NotRun,
  describeError,
  expectEqual,
  expectThat,
  outcomeOf,
  randomSuffix,
  show,
  sleep,
} from './behaviour';
import { BUSY_STATUSES, readProduct, searchById, writeProperties } from './probes';

export const SC_DOCS = 'https://docs.aws.amazon.com/servicecatalog/latest/dg';

const PRODUCT_STATUSES = ['AVAILABLE', 'UNDER_CHANGE', 'TAINTED', 'ERROR', 'PLAN_IN_PROGRESS'];
const ASSUMED_ROLE_RE = /^arn:[^:]+:sts::\d{12}:assumed-role\/[^/]+\/.+$/;
const PRINCIPAL_RE = /^arn:[^:]+:(iam::\d{12}:(user|role)\/.+|sts::\d{12}:assumed-role\/[^/]+\/.+)$/;

export const sessionOwner: Behaviour = {
  id: 'sc.session-owner',
  service: 'Service Catalog',
  assumption:
    'For a product provisioned by an STS assumed-role session, the search reports the session in UserArnSession and something else in UserArn (the principal without its session); the handler records the session as the owner.',
  reliedOnBy:
    'lambda/service-catalog.ts readProduct records UserArnSession (UserArn when there is no session) as the prior owner, which Delete writes back as OWNER (see sc.userarn-roundtrip): the session owned the product, not its whole role.',
  source: `${SC_DOCS}/API_ProvisionedProductAttribute.html (UserArn: "the ARN of the user"; UserArnSession: "the ARN of the user in the session. This ARN might contain a session ID")`,
  fake: { kind: 'models' },
  writes: false,
  async run({ target, sc, observe }) {
    const product = await readProduct(sc, target.productId);
    expectThat(product.listed, `the search did not list product ${target.productId}`);
    if (!ASSUMED_ROLE_RE.test(product.userArnSession)) {
      throw new NotRun(
        `the product's UserArnSession ${show(product.userArnSession)} is not an assumed-role session: it was not provisioned (or last given) by one`,
      );
    }
    observe(`UserArn ${show(product.userArn)}, UserArnSession ${show(product.userArnSession)}`);
    if (product.userArn === product.userArnSession) {
      throw new Difference(`UserArn equals UserArnSession (${product.userArnSession}): the role and its session cannot be told apart`);
    }
  },
};

export const describeProduct: Behaviour = {
  id: 'sc.describe',
  service: 'Service Catalog',
  assumption:
    "DescribeProvisionedProduct reports an idle product's Status (not UNDER_CHANGE or PLAN_IN_PROGRESS), its Arn `arn:<partition>:servicecatalog:<region>:<account>:stack/<name>/<id>`, and LaunchRoleArn when it has a launch role (a role of its own account).",
  reliedOnBy:
    "lambda/service-catalog.ts readProduct; on-event.ts checks that the owner and launch role are in the account and partition of the product's Arn (lib/rules.ts homeOf), and compares values only when the status is settled.",
  source: `${SC_DOCS}/API_ProvisionedProductDetail.html`,
  fake: { kind: 'models' },
  writes: false,
  async run({ target, sc, observe }) {
    const detail = (await sc.send(new DescribeProvisionedProductCommand({ Id: target.productId }))).ProvisionedProductDetail ?? {};
    expectEqual(detail.Id, target.productId, 'Id');
    const status = detail.Status ?? '';
    expectThat(PRODUCT_STATUSES.includes(status), `Status ${show(status)} is not one of ${PRODUCT_STATUSES.join(', ')}`);
    expectThat(!BUSY_STATUSES.has(status), `the product is ${status} although nothing runs on it`);
    const arn = /^arn:([^:]+):servicecatalog:([^:]+):(\d{12}):stack\/[^/]+\/([^/]+)$/.exec(detail.Arn ?? '');
    expectThat(arn !== null, `Arn ${show(detail.Arn)} is not arn:<partition>:servicecatalog:<region>:<account>:stack/<name>/<id>`);
    expectEqual(arn[4], target.productId, 'the id at the end of the Arn');
    const launchRole = detail.LaunchRoleArn ?? '';
    if (launchRole !== '') {
      const role = /^arn:([^:]+):iam::(\d{12}):role\/.+$/.exec(launchRole);
      expectThat(role !== null, `LaunchRoleArn ${show(launchRole)} is not an IAM role ARN`);
      expectEqual(`${role[1]}:${role[2]}`, `${arn[1]}:${arn[3]}`, "the launch role's partition:account");
    }
    observe(`Status ${status}, Arn ${detail.Arn ?? ''}, LaunchRoleArn ${launchRole || '(none)'}`);
  },
};

export const notFound: Behaviour = {
  id: 'sc.not-found',
  service: 'Service Catalog',
  assumption:
    'A provisioned product id that does not exist gets ResourceNotFoundException, from DescribeProvisionedProduct and from UpdateProvisionedProductProperties.',
  reliedOnBy:
    'on-event.ts fails a Create on an unknown product ("was not found") and lets a Delete succeed without a write; is-complete.ts treats the write\'s ResourceNotFoundException on a Delete as "the product was terminated meanwhile".',
  source: `${SC_DOCS}/API_DescribeProvisionedProduct.html, ${SC_DOCS}/API_UpdateProvisionedProductProperties.html (Errors)`,
  fake: { kind: 'models' },
  writes: false,
  async run({ target, sc, observe }) {
    const ghost = `pp-${randomSuffix(13)}`;
    const read = await outcomeOf(sc.send(new DescribeProvisionedProductCommand({ Id: ghost })));
    expectThat(read.error !== undefined, `DescribeProvisionedProduct of ${ghost} answered ${show(read.value?.ProvisionedProductDetail)}`);
    expectEqual(read.error.name, 'ResourceNotFoundException', `DescribeProvisionedProduct's error for ${ghost}`);
    const write = await outcomeOf(writeProperties(sc, ghost, { OWNER: target.owners[0] }, `contract-ghost-${randomSuffix(12)}`));
    expectThat(
      write.error !== undefined,
      `UpdateProvisionedProductProperties of ${ghost} was accepted (record ${show(write.value?.RecordId)})`,
    );
    expectEqual(write.error.name, 'ResourceNotFoundException', `UpdateProvisionedProductProperties's error for ${ghost}`);
    observe(`${ghost}: ${read.error.name} / ${write.error.name}`);
  },
};

export const searchListsOwner: Behaviour = {
  id: 'sc.search-by-id',
  service: 'Service Catalog',
  assumption: `SearchProvisionedProducts with AccessLevelFilter Account/self and SearchQuery \`id:<id>\` lists that product and no other, with its owner in UserArn, within the handler's search retries (${HANDLER_TIMING.searchAttempts.default} attempts, ${HANDLER_TIMING.searchDelayMs.default} ms apart), whoever owns it.`,
  reliedOnBy:
    'lambda/service-catalog.ts readProduct: the owner is only known from this search; a product it does not list fails a Create ("owner unknown").',
  source: `${SC_DOCS}/API_SearchProvisionedProducts.html`,
  fake: { kind: 'models' },
  writes: false,
  async run({ target, sc, observe }) {
    const { searchAttempts, searchDelayMs } = HANDLER_TIMING;
    for (let attempt = 1; attempt <= searchAttempts.default; attempt++) {
      const listed = await searchById(sc, target.productId);
      if (listed.length > 0) {
        const ids = listed.map((p) => p.Id ?? '');
        expectThat(ids.length === 1 && ids[0] === target.productId, `the search for id:${target.productId} listed ${ids.join(', ')}`);
        const owner = listed[0].UserArn ?? '';
        expectThat(PRINCIPAL_RE.test(owner), `UserArn ${show(owner)} is not an IAM user, role or assumed-role ARN`);
        observe(`listed on attempt ${attempt}; UserArn ${owner}`);
        return;
      }
      await sleep(searchDelayMs.default);
    }
    throw new Difference(`the search did not list product ${target.productId} in ${searchAttempts.default} attempts`);
  },
};

export const searchUnmatched: Behaviour = {
  id: 'sc.search-unmatched',
  service: 'Service Catalog',
  assumption:
    'A SearchQuery lists only the products it matches: a query on a field value no product has lists nothing (or is refused). A search never falls back to every product.',
  reliedOnBy:
    'lambda/service-catalog.ts readProduct reads one page of the `id:<id>` search: a search that ignored its query would list every product, and in an account with more than a page of them the product would read as not listed (owner unknown).',
  source: `${SC_DOCS}/API_SearchProvisionedProducts.html (Filters: "the searchable fields are arn, createdTime, id, ... name ...")`,
  fake: { kind: 'models' },
  writes: false,
  async run({ sc, observe }) {
    const query = `name:ppp-contract-no-such-product-${randomSuffix(10)}`;
    const result = await outcomeOf(
      sc.send(
        new SearchProvisionedProductsCommand({ AccessLevelFilter: { Key: 'Account', Value: 'self' }, Filters: { SearchQuery: [query] } }),
      ),
    );
    if (result.error) {
      observe(`${query} refused: ${describeError(result.error)}`);
      return;
    }
    const ids = (result.value.ProvisionedProducts ?? []).map((p) => p.Id ?? '');
    expectThat(ids.length === 0, `the search for ${query} listed ${ids.length} product(s): ${ids.slice(0, 5).join(', ')}`);
    observe(`${query} listed nothing`);
  },
};

export const acceptLanguage: Behaviour = {
  id: 'sc.accept-language',
  service: 'Service Catalog',
  assumption:
    'AcceptLanguage `jp` and `zh` are accepted by DescribeProvisionedProduct and SearchProvisionedProducts, with the same answers.',
  reliedOnBy: "The construct's acceptLanguage prop: the handler passes it on every call.",
  source: `${SC_DOCS}/API_DescribeProvisionedProduct.html (AcceptLanguage)`,
  fake: { kind: 'models' },
  writes: false,
  async run({ target, sc, observe }) {
    const english = await readProduct(sc, target.productId);
    for (const language of ['jp', 'zh']) {
      const other = await readProduct(sc, target.productId, language);
      expectEqual(other.arn, english.arn, `Arn with AcceptLanguage ${language}`);
      expectEqual(other.listed, english.listed, `listed by the search with AcceptLanguage ${language}`);
      expectEqual(other.userArn, english.userArn, `UserArn with AcceptLanguage ${language}`);
    }
    observe('jp and zh answer as en does');
  },
};

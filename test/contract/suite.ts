/**
 * The contract suite: every behaviour the handler relies on, in the order a run takes them (Service Catalog's reads before its writes, the session owner first while the product is as provisioned; then DynamoDB's).
 */
import type { Behaviour } from './behaviour';
import { conditionalPut, consistentRead, mapMember, requestOnce, timeToLive, transactionCancelled, writeLease } from './dynamodb';
import { acceptLanguage, describeProduct, notFound, searchListsOwner, searchUnmatched, sessionOwner } from './service-catalog-reads';
import {
  busyRecord,
  busyUpdate,
  failedRecord,
  foreignPrincipals,
  launchRoleNotCleared,
  passRole,
  readAfterWrite,
  recordLifecycle,
  tokenRepeat,
  tokenRepeatBusy,
  userArnRoundTrip,
} from './service-catalog-writes';

export const BEHAVIOURS: readonly Behaviour[] = [
  sessionOwner,
  describeProduct,
  notFound,
  searchListsOwner,
  searchUnmatched,
  acceptLanguage,
  userArnRoundTrip,
  recordLifecycle,
  readAfterWrite,
  tokenRepeat,
  tokenRepeatBusy,
  busyRecord,
  busyUpdate,
  failedRecord,
  launchRoleNotCleared,
  foreignPrincipals,
  passRole,
  conditionalPut,
  consistentRead,
  requestOnce,
  transactionCancelled,
  mapMember,
  writeLease,
  timeToLive,
];

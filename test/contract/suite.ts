/**
 * The contract suite: every behaviour the handler relies on, in the order a run takes them (reads before writes, the session owner first while the product is as provisioned).
 */
import type { Behaviour } from './behaviour';
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
];

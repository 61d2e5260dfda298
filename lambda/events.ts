/**
 * The shapes the two handlers receive and return, and the planned change onEvent hands to isComplete.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { PropertyValues } from '../lib/rules';
import type { HandChange } from './decisions';

/**
 * A CloudFormation custom resource event as the provider framework passes it to onEvent. The
 * ResponseURL (a pre-signed S3 URL, a write credential) is in it: it is never read or logged.
 */
export type CustomResourceEvent = CloudFormationCustomResourceEvent;

/**
 * The write onEvent settled, carried to every isComplete call of the event (the framework merges
 * onEvent's result into the waiter's input, which is fixed from then on).
 */
export interface PlannedChange {
  /** The product to write. */
  readonly ProductId: string;
  /** The keys to send, with their target values. */
  readonly Properties: Partial<PropertyValues>;
  /** Derived from the RequestId and the write: the same for every delivery that planned the same write. */
  readonly IdempotencyToken: string;
  /** AcceptLanguage for the calls, when set. */
  readonly AcceptLanguage?: string;
  /** Why: 'apply' (Create/Update) or 'restore' (Delete). */
  readonly Purpose: 'apply' | 'restore';
  /** The product's values before this resource first changed it: for the messages that must name them, and to undo a Create CloudFormation no longer awaits. */
  readonly Priors: PropertyValues;
}

/** A product a replacement CloudFormation never adopted had captured: isComplete puts it back to these priors first. */
export interface OrphanUndo {
  readonly ProductId: string;
  /** The priors the orphaned capture recorded. */
  readonly Priors: PropertyValues;
  /** The request that captured them (only its entry in the ledger is forgotten afterwards). */
  readonly CapturedBy: string;
  readonly AcceptLanguage?: string;
}

/** What onEvent returns; the provider framework merges it into the event isComplete receives. */
export interface OnEventResult {
  readonly PhysicalResourceId: string;
  /** The write isComplete makes; absent when the values already match. */
  readonly PlannedChange?: PlannedChange;
  /** Products an orphaned capture changed, which isComplete puts back before its own write. */
  readonly Orphans?: readonly OrphanUndo[];
  /** When onEvent finished (epoch ms): the fast path's window counts from here. */
  readonly PlannedAt: number;
  /** Managed keys the write overwrites that someone changed by hand (see changesByHand): reported in the answer. */
  readonly ChangedByHand?: readonly HandChange[];
}

/** What isComplete receives: the event plus onEvent's result. */
export type IsCompleteEvent = CustomResourceEvent & Partial<OnEventResult>;

/** What isComplete returns. Data only with IsComplete true, as the framework requires. */
export type IsCompleteResult = { IsComplete: false } | { IsComplete: true; Data: Record<string, string> };

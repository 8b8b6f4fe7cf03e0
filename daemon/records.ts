// Where the database's record types (db/records.ts) meet the daemon's wire and
// NIC types. Today they are the same shapes, so the conversion is the identity;
// these compile-time checks fail the build the day one side changes without
// the other, and that day the conversion goes here.
import type { StoredAllowInstance, StoredDisk, StoredEvent, StoredNic, StoredState } from '../db/records.js';
import type { AllowInstance, DiskSpec, EventRecord, VmState } from './protocol/messages.js';
import type { NicSpec } from './nics.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export const RECORDS_MATCH: [
  Same<StoredState, VmState>,
  Same<StoredDisk, DiskSpec>,
  Same<StoredNic, NicSpec>,
  Same<StoredAllowInstance, AllowInstance>,
  Same<StoredEvent, EventRecord>,
] = [true, true, true, true, true];

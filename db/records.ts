// The shapes db/ stores, declared here so the database layer depends on nothing
// of the daemon (no wire types from daemon/protocol/, no daemon/nics.ts). They
// are structurally the daemon's types; daemon/records.ts checks that at compile
// time and is where a difference would be converted.

/** A VM's state as stored (runtime.state). */
export type StoredState = 'stopped' | 'waiting' | 'starting' | 'running' | 'paused' | 'stopping';

/** One disk of a definition (the disks table). */
export interface StoredDisk {
  path: string;
  format: 'raw' | 'qcow2';
  readOnly?: boolean;
}

/** One host port forwarded to a NAT guest (interfaces.forwards, as JSON). */
export interface StoredForward {
  hostAddr: number;
  hostPort: number;
  guestPort: number;
}

/** One NIC of a definition (the interfaces table). */
export interface StoredNic {
  kind: 'nat' | 'local' | 'tap' | 'switch';
  switch?: string;
  lladdr: string;
  forwards?: StoredForward[];
}

/** vm.conf's `allow instance` block (vms.allow_instance, as JSON). */
export interface StoredAllowInstance {
  options: ('boot' | 'cdrom' | 'disk' | 'instance' | 'interface' | 'memory')[];
  owners: string[];
}

/** One row of the event log. */
export interface StoredEvent {
  seq: number;
  time: string;
  vmId: number | null;
  vm: string;
  from: StoredState | null;
  to: StoredState | 'defined' | 'undefined';
  reason: string;
}

// What the ring needs to know about a member: its stable id and, when known, its zone.
// Addresses and readiness stay out on purpose: a pod that is rescheduled keeps its id
// and therefore its tokens, and whether a not-ready member belongs in the ring is the
// membership layer's decision, made before the ring is built.
import type { Member } from './member.js';

export type RingMember = Pick<Member, 'id' | 'zone'>;

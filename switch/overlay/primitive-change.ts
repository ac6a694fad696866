/**
 * What a primitive changed, as the durable state needs to know it (daemon/ maps it to records, switch/state/
 * primitive-records.ts). LocalPrimitives hands each change to its `durable` hook and answers only once the hook has
 * resolved: persist, then acknowledge. (Run-time ports, from the add/delete-port primitives, add their two cases
 * here — "port-added", "port-deleted" — and their records in primitive-records.ts.)
 */
import type { LinkPeerConfig } from '../link/link-manager.js';
import type { Rule } from '../rules/rule.js';

export type PrimitiveChange =
  | { readonly type: 'link-added'; readonly name: string; readonly config: Readonly<LinkPeerConfig>; readonly owner: string }
  | { readonly type: 'link-deleted'; readonly name: string; readonly config: Readonly<LinkPeerConfig>; readonly owner: string }
  | { readonly type: 'rule-added'; readonly rule: Rule; readonly nextRuleId: number }
  | { readonly type: 'rule-deleted'; readonly rule: Rule }
  | { readonly type: 'config-time'; readonly upperBoundMs: number };

/** Makes a change durable; rejects when it cannot (the primitive then undoes the change and fails). */
export type DurableChange = (change: PrimitiveChange) => Promise<void>;

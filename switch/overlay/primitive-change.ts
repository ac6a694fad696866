/**
 * What a primitive changed, as the durable state needs to know it (daemon/ maps it to records, switch/state/
 * primitive-records.ts). LocalPrimitives hands each change to its `durable` hook and answers only once the hook has
 * resolved: persist, then acknowledge.
 */
import type { PortConfig } from '../config/config.js';
import type { LinkPeerConfig } from '../link/link-manager.js';
import type { Rule } from '../rules/rule.js';

export type PrimitiveChange =
  | { readonly type: 'link-added'; readonly name: string; readonly config: Readonly<LinkPeerConfig>; readonly owner: string }
  | { readonly type: 'link-deleted'; readonly name: string; readonly config: Readonly<LinkPeerConfig>; readonly owner: string }
  | { readonly type: 'rule-added'; readonly rule: Rule; readonly nextRuleId: number }
  | { readonly type: 'rule-deleted'; readonly rule: Rule }
  | { readonly type: 'config-time'; readonly upperBoundMs: number }
  | { readonly type: 'port-added'; readonly config: Readonly<PortConfig>; readonly owner: string }
  /** `rules`: the policies' rules toward the port, which go with it (local-ports.ts). */
  | { readonly type: 'port-deleted'; readonly config: Readonly<PortConfig>; readonly owner: string; readonly rules: readonly Rule[] };

/** Makes a change durable; rejects when it cannot (the primitive then undoes the change and fails). */
export type DurableChange = (change: PrimitiveChange) => Promise<void>;

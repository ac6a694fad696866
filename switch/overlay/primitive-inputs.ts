/**
 * Shape checks for primitive inputs that arrive over the control channel (the
 * HTTP API checks the same shapes against openapi.yaml). A wrong shape is an
 * InvalidInputError naming the field, before anything changes.
 */
import { InvalidInputError, type LinkInput, type PortInput, type RuleInput } from './primitives.js';

export function ruleInput(value: unknown): RuleInput {
  const v = object(value, 'rule');
  const input: RuleInput = { src: string(v, 'src'), dst: string(v, 'dst'), target: string(v, 'target') };
  if (v.priority !== undefined) input.priority = integer(v, 'priority');
  return input;
}

export function linkInput(value: unknown): LinkInput {
  const v = object(value, 'link');
  const input: LinkInput = { name: string(v, 'name'), publicKey: string(v, 'publicKey') };
  if (v.endpoint !== undefined) input.endpoint = string(v, 'endpoint');
  if (v.tcpEndpoint !== undefined) input.tcpEndpoint = string(v, 'tcpEndpoint');
  if (v.transport !== undefined) {
    const t = string(v, 'transport');
    if (t !== 'udp' && t !== 'tcp' && t !== 'auto') throw new InvalidInputError('transport', 'must be udp, tcp or auto');
    input.transport = t;
  }
  if (v.persistentKeepaliveS !== undefined) input.persistentKeepaliveS = integer(v, 'persistentKeepaliveS');
  if (v.restore !== undefined) {
    if (typeof v.restore !== 'boolean') throw new InvalidInputError('restore', 'must be a boolean');
    input.restore = v.restore;
  }
  return input;
}

export function portInput(value: unknown): PortInput {
  const v = object(value, 'port');
  const type = string(v, 'type');
  if (type !== 'tap' && type !== 'capture') throw new InvalidInputError('type', 'must be tap or capture');
  const input: PortInput = { name: string(v, 'name'), type };
  if (v.interface !== undefined) input.interface = string(v, 'interface');
  if (v.mtu !== undefined) input.mtu = integer(v, 'mtu');
  if (v.promiscuous !== undefined) {
    if (typeof v.promiscuous !== 'boolean') throw new InvalidInputError('promiscuous', 'must be a boolean');
    input.promiscuous = v.promiscuous;
  }
  return input;
}

export function integerArg(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidInputError(field, 'must be an integer');
  return value;
}

export function stringArg(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidInputError(field, 'must be a string');
  return value;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInputError(field, 'must be an object');
  return value as Record<string, unknown>;
}

function string(v: Record<string, unknown>, field: string): string {
  return stringArg(v[field], field);
}

function integer(v: Record<string, unknown>, field: string): number {
  return integerArg(v[field], field);
}

/**
 * Files for the checks that need no daemon (`vswitch up --check`, `vswitch topology check`), written to a temporary
 * directory: a good and a bad daemon config (a core key, a plugin's section), good and bad descriptions.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../../../switch/link/noise/crypto.js';

const key = () => generatePrivateKey(randomBytes);
const pub = () => encodeKeyBase64(publicKey(key()));

export const HOST_YAML = `name: h1
role: host
proxy: proxy
privateKey: "${encodeKeyBase64(key())}"
peers:
  - { name: proxy, publicKey: "${pub()}", endpoint: "198.18.1.1:51820", transport: auto }
ports:
  - { name: tap-h1v1, type: tap }
`;

/** Line 8, column 29: the port's type. */
export const BAD_PORT_YAML = HOST_YAML.replace('type: tap', 'type: tun');
/** A plugin's section (plugins/vttif/config.ts), not the switch's. */
export const BAD_SECTION_YAML = `${HOST_YAML}vttif: { updateRateHz: 0 }\n`;

const [proxyKey, h1Key, h2Key] = [pub(), pub(), pub()];
export const GOOD_VNET = `host proxy key "${proxyKey}" endpoint 198.18.1.1:51820 proxy
host h1 key "${h1Key}" endpoint 198.18.0.1:51820
host h2 key "${h2Key}" endpoint 198.18.0.2:51820
link h1 proxy
link h2 proxy
link h1 h2 transport udp
rule h1 src any dst 02:00:c6:13:02:01 via h2 priority 10
`;
/** Parses, but means nothing valid: three problems (h2 has no link to the proxy, an unknown host, a rule via no link) and a warning. */
export const INVALID_VNET = `host proxy key "${proxyKey}" proxy
host h1 key "${h1Key}"
host h2 key "${h2Key}"
link h1 proxy
link h1 h3
rule h1 src any dst 02:00:c6:13:02:01 via h2
rule h1 src any dst 02:00:c6:13:02:02 via vm7
`;
/** Does not follow the grammar (line 2). */
export const SYNTAX_VNET = `host proxy key "${proxyKey}" proxy\nlink h1\n`;

export interface CheckFiles {
  dir: string;
  path(name: string): string;
  remove(): void;
}

export function writeCheckFiles(): CheckFiles {
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-check-'));
  const files: Record<string, string> = {
    'host.yaml': HOST_YAML,
    'bad-port.yaml': BAD_PORT_YAML,
    'bad-section.yaml': BAD_SECTION_YAML,
    'good.vnet': GOOD_VNET,
    'invalid.vnet': INVALID_VNET,
    'syntax.vnet': SYNTAX_VNET,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

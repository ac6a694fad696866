/**
 * The config file `vswitch join` writes for the new host: a host of the overlay whose one peer is the Proxy (its
 * star link, `proxy:` naming it), the private key in its own file, and the VM ports given on the command line.
 * Pure: the text only, checked by the daemon's own loader in the tests (what is written is what `vswitch up` reads).
 */
import type { JoinAnswer } from './join-exchange.js';

export interface JoinedHostConfig {
  readonly answer: JoinAnswer;
  /** Absolute path of the private key file (or, to check options before the exchange, the key itself, base64). */
  readonly key: { readonly file: string } | { readonly inline: string };
  /** "IP:PORT" the host's links listen on (UDP, and TCP for the fallback). */
  readonly listen: string;
  readonly apiListen: string;
  readonly taps: readonly { name: string; mtu: number }[];
  /** When and with which token: for the comment at the top (ISO time, token id, join address). */
  readonly joinedAt: string;
  readonly tokenId: string;
  readonly joinAddress: string;
}

export function hostConfigYaml(c: JoinedHostConfig): string {
  const { answer } = c;
  const peer = [
    `name: ${answer.proxy.name}`,
    `publicKey: ${quote(answer.proxy.publicKey)}`,
    `endpoint: ${quote(answer.proxy.endpoint)}`,
    ...(answer.proxy.tcpEndpoint ? [`tcpEndpoint: ${quote(answer.proxy.tcpEndpoint)}`] : []),
    'transport: auto',
  ];
  return [
    `# written by \`vswitch join\` at ${c.joinedAt}: host ${answer.name} of the overlay whose Proxy is "${answer.proxy.name}"`,
    `# (join token ${c.tokenId}, join listener ${c.joinAddress}). Run it with: vswitch up -c THIS-FILE`,
    `name: ${answer.name}`,
    'role: host',
    `proxy: ${answer.proxy.name}`,
    'file' in c.key ? `privateKeyFile: ${quote(c.key.file)}` : `privateKey: ${quote(c.key.inline)}`,
    'listen:',
    `  udp: ${quote(c.listen)}`,
    `  tcp: ${quote(c.listen)}`,
    'peers:',
    `  - { ${peer.join(', ')} }`,
    'api:',
    `  listen: ${quote(c.apiListen)}`,
    ...(c.taps.length > 0 ? ['ports:', ...c.taps.map((t) => `  - { name: ${quote(t.name)}, type: tap, mtu: ${t.mtu} }`)] : []),
    '',
  ].join('\n');
}

/** A YAML double-quoted scalar (JSON's escapes are YAML's). */
function quote(text: string): string {
  return JSON.stringify(text);
}

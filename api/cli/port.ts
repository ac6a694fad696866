/**
 * `vswitch port list|add|del`: the port primitives, as `ovs-vsctl add-port` — a TAP the daemon creates
 * (`add NAME --tap`) or an existing interface attached by packet capture (`add NAME --interface IF`).
 *
 * `vswitch port hook up|down IFNAME` is what bin/vswitch-ifup and bin/vswitch-ifdown run for QEMU's `script=` and
 * `downscript=` (and libvirt's `<script>`/`<downscript>`): attach the TAP QEMU made as a capture port named after it,
 * or detach it. Both are idempotent, as a hook must be (QEMU may run them again, a VM may have crashed): `up` of a
 * port that is already attached to that interface, and `down` of one that is already gone, say so and succeed.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiClientError } from './client.js';
import { ApiTarget, emit, parseInteger, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import { formatPorts } from './tables.js';
import type { PortInputBody, PortStatus } from '../wire/schemas.js';

interface PortAddOptions extends ApiOptions {
  tap?: boolean;
  interface?: string;
  mtu?: number;
  promiscuous: boolean;
}

export function portCommand(io: CliIo): Command {
  const port = new Command('port').description('add, delete and list ports: TAPs the daemon creates, or interfaces it captures (a VM\'s TAP)');

  withApiOptions(
    port
      .command('add')
      .description('add a port at run time: --tap (the daemon creates the TAP) or --interface IF (attach an existing one)')
      .argument('<name>', 'port name (a TAP: its device name), 1 to 15 characters')
      .addOption(new Option('--tap', 'a TAP device the daemon creates').conflicts('interface'))
      .addOption(new Option('--interface <ifname>', 'attach this existing interface (e.g. the TAP QEMU made) by packet capture'))
      .addOption(new Option('--mtu <bytes>', "the TAP's MTU (default 1500)").argParser(parseInteger).conflicts('interface'))
      .option('--no-promiscuous', 'capture only frames for the interface\'s own MAC (default: every MAC)'),
  ).action(async (name: string, opts: PortAddOptions, command: Command) => {
    if (!opts.tap && opts.interface === undefined) command.error("error: say which port: --tap, or --interface IF", { code: 'vswitch.portTypeMissing', exitCode: 2 });
    if (opts.tap && !opts.promiscuous) command.error('error: --no-promiscuous applies to --interface only', { code: 'vswitch.portOptionConflict', exitCode: 2 });
    const body: PortInputBody = opts.tap
      ? { name, type: 'tap', ...(opts.mtu === undefined ? {} : { mtu: opts.mtu }) }
      : { name, type: 'capture', interface: opts.interface!, ...(opts.promiscuous ? {} : { promiscuous: false }) };
    const added = await new ApiTarget(opts).request<PortStatus>('POST', '/ports', body);
    emit(io, opts, added, () => `port ${added.name} added (${describePort(added)})\n${formatPorts([added])}`);
  });

  withApiOptions(port.command('del').alias('delete').description('delete a port (a TAP the daemon made disappears; a captured interface stays)').argument('<name>', 'port name')).action(
    async (name: string, opts: ApiOptions) => {
      await new ApiTarget(opts).request('DELETE', `/ports/${encodeURIComponent(name)}`);
      emit(io, opts, { deleted: name }, () => `port ${name} deleted`);
    },
  );

  withApiOptions(port.command('list').alias('ls').description('list ports (links too) with counters and owners')).action(async (opts: ApiOptions) => {
    const { ports } = await new ApiTarget(opts).request<{ ports: PortStatus[] }>('GET', '/ports');
    emit(io, opts, ports, () => formatPorts(ports));
  });

  port.addCommand(hookCommand(io));
  return port;
}

/** `vswitch port hook up|down IFNAME`: the QEMU/libvirt hooks' API half (bin/vswitch-ifup, bin/vswitch-ifdown). */
function hookCommand(io: CliIo): Command {
  const hook = new Command('hook').description("for QEMU's script=/downscript= and libvirt's <script>/<downscript>: attach or detach a VM's TAP (idempotent)");
  withApiOptions(hook.command('up').description('attach IFNAME (a TAP QEMU made) as a capture port named after it').argument('<ifname>', 'the interface', interfaceName), { host: false }).action(
    async (ifname: string, opts: ApiOptions) => {
      const target = new ApiTarget(opts);
      try {
        const added = await target.request<PortStatus>('POST', '/ports', { name: ifname, type: 'capture', interface: ifname });
        emit(io, opts, { port: added.name, attached: true }, () => `vswitch: port ${ifname} attached (capture on ${ifname}, ${added.state})`);
      } catch (err) {
        if (!(err instanceof ApiClientError) || err.status !== 409 || !(await isAttached(target, ifname))) throw err;
        emit(io, opts, { port: ifname, attached: true, already: true }, () => `vswitch: port ${ifname} already attached (capture on ${ifname}): nothing to do`);
      }
    },
  );
  withApiOptions(hook.command('down').description('detach the capture port named IFNAME').argument('<ifname>', 'the interface', interfaceName), { host: false }).action(
    async (ifname: string, opts: ApiOptions) => {
      try {
        await new ApiTarget(opts).request('DELETE', `/ports/${encodeURIComponent(ifname)}`);
        emit(io, opts, { port: ifname, detached: true }, () => `vswitch: port ${ifname} detached`);
      } catch (err) {
        if (!(err instanceof ApiClientError) || err.status !== 404 || problemCode(err) !== 'not-found') throw err;
        emit(io, opts, { port: ifname, detached: true, already: true }, () => `vswitch: port ${ifname} is not attached: nothing to do`);
      }
    },
  );
  return hook;
}

/** Whether `ifname` is attached already as the hook attaches it: a capture port of that name on that interface. */
async function isAttached(target: ApiTarget, ifname: string): Promise<boolean> {
  const { ports } = await target.request<{ ports: PortStatus[] }>('GET', '/ports');
  return ports.some((p) => p.name === ifname && p.kind !== 'link' && p.interface === ifname);
}

function problemCode(err: ApiClientError): string | undefined {
  const code = (err.problem as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describePort(p: PortStatus): string {
  const what = p.interface === undefined ? p.kind : `${p.kind} on ${p.interface}`;
  return p.state === 'down' && p.lastError ? `${what}, down: ${p.lastError}` : `${what}, ${p.state}`;
}

/** The hook's argument: what QEMU passes, a Linux interface name (checked here so a typo fails before any request). */
function interfaceName(text: string): string {
  if (!/^(?!\.{1,2}$)[^\s/:]{1,15}$/.test(text) || Buffer.byteLength(text) > 15) throw new InvalidArgumentError('must be a Linux interface name (1 to 15 bytes, no "/", ":" or spaces)');
  return text;
}

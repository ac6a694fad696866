import type { PortConfig } from '../config/config.js';
import type { NativeAddon } from './addon.js';
import { CapturePort } from './capture-port.js';
import type { Port } from './port.js';
import { TapPort } from './tap-port.js';

/** Opens the device a port config names; throws a typed port error saying why it cannot. */
export function openPort(config: PortConfig, addon?: NativeAddon): Port {
  const withAddon = addon ? { addon } : {};
  switch (config.type) {
    case 'tap':
      return TapPort.open({ name: config.name, mtu: config.mtu, create: true, offloads: config.offloads ?? false, ...withAddon });
    case 'capture':
      return CapturePort.openWhenReady({
        name: config.name,
        interface: config.interface,
        promiscuous: config.promiscuous,
        ...(config.bpf ? { bpf: config.bpf } : {}),
        ...withAddon,
      });
  }
}

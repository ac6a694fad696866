/**
 * Whether the host has a network interface of a name, for the check a run-time capture port makes before it opens
 * (switch/overlay/local-ports.ts): the addon asks the kernel in the daemon's own network namespace
 * (if_nametoindex); without the addon, sysfs answers (right when /sys is the namespace's, as `ip netns exec` mounts
 * it). The name was checked already (no "/", not "." or ".."), so it is one path component.
 */
import { existsSync } from 'node:fs';
import type { NativeAddon } from '../switch/port/addon.js';

export function hostInterfaceExists(addon: NativeAddon | undefined): (name: string) => boolean {
  if (addon) {
    return (name) => {
      try {
        return addon.interfaceInfo(name) !== null;
      } catch {
        return true; // the kernel did not say "no such device": the open will say what it is
      }
    };
  }
  return (name) => existsSync(`/sys/class/net/${name}`);
}

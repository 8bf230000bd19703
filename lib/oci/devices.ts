// Device tuples the VM needs inside the container. Data only.
// Major/minor numbers: Linux Documentation/admin-guide/devices.txt (misc char devices, major 10).
import type { DeviceNode, DeviceRule } from './spec.js'

export interface DeviceDef { path: string; major: number; minor: number }

/** /dev/kvm: QEMU's hardware accelerator (misc 232). */
export const KVM: DeviceDef = { path: '/dev/kvm', major: 10, minor: 232 }
/** /dev/net/tun: the tap devices the VM's NICs are built on (misc 200). */
export const TUN: DeviceDef = { path: '/dev/net/tun', major: 10, minor: 200 }
/** /dev/vhost-net: in-kernel virtio-net backend, only with RUNCVM_QEMU_NET_VHOST=1 (misc 238). */
export const VHOST_NET: DeviceDef = { path: '/dev/vhost-net', major: 10, minor: 238 }

/** S_IFCHR | 0666, as upstream writes it (8630 decimal). */
export const CHAR_DEVICE_MODE = 0o20666

export function vmDevices(vhostNet: boolean): DeviceDef[] {
  return vhostNet ? [TUN, KVM, VHOST_NET] : [TUN, KVM]
}

export const deviceNode = (d: DeviceDef): DeviceNode =>
  ({ path: d.path, type: 'c', major: d.major, minor: d.minor, fileMode: CHAR_DEVICE_MODE, uid: 0, gid: 0 })

export const deviceRule = (d: DeviceDef): DeviceRule =>
  ({ allow: true, type: 'c', major: d.major, minor: d.minor, access: 'rwm' })

/** Identity keys for set-union (crun `spec_has_device`): a node by its path, a rule by its whole tuple. */
export const nodeKey = (n: DeviceNode): string => n.path
export const ruleKey = (r: DeviceRule): string => `${r.allow}:${r.type ?? 'a'}:${r.major ?? '*'}:${r.minor ?? '*'}:${r.access ?? ''}`

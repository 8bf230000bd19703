// Host-key pinning for `docker exec`. The VM's dropbear creates its ed25519 host key at boot in
// /.runcvm/dropbear (root-only; a peer container cannot read or replace it). Before every exec the
// container side turns that key into a known_hosts line for the VM's address, and dbclient checks
// the server against it: something else answering on the VM's address (a peer on the Docker network
// claiming it by ARP, a non-root VM user that bound port 22222 while dropbear restarted) has another
// key and the exec ends with dbclient's "host key mismatch" instead of talking to it.
// Differs from upstream: upstream's dbclient accepted any host key (-y -y).

/** The only host key type our dropbear is given (lib/vm/sshd.ts). */
const ED25519 = 'ssh-ed25519'
const KEY_BYTES = 32

const sshString = (b: Buffer): Buffer => {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(b.length)
  return Buffer.concat([len, b])
}

/**
 * The public key (OpenSSH wire format, base64) of a dropbear ed25519 private key file: string
 * "ssh-ed25519", then a 64-byte string of the private and the public half. Anything else is an
 * error, never a guess.
 */
export function dropbearEd25519Public(file: Buffer): string {
  const bad = (why: string): never => { throw new Error(`not a dropbear ed25519 key: ${why}`) }
  if (file.length < 4) bad('too short')
  const nameLen = file.readUInt32BE(0)
  if (nameLen !== ED25519.length || file.length < 4 + nameLen + 4) bad('wrong type')
  if (file.subarray(4, 4 + nameLen).toString('latin1') !== ED25519) bad('wrong type')
  const at = 4 + nameLen
  const blobLen = file.readUInt32BE(at)
  if (blobLen !== 2 * KEY_BYTES || file.length !== at + 4 + blobLen) bad('wrong length')
  const pub = file.subarray(at + 4 + KEY_BYTES, at + 4 + 2 * KEY_BYTES)
  return Buffer.concat([sshString(Buffer.from(ED25519)), sshString(pub)]).toString('base64')
}

/**
 * dbclient's known_hosts content for `host`: dbclient looks the server up by the address it was
 * given, without the port (cli-kex.c compares the plain remote host).
 */
export function knownHostsLine(host: string, hostKeyFile: Buffer): string {
  if (!/^[0-9A-Fa-f.:]+$/.test(host)) throw new Error(`not an IP address: ${JSON.stringify(host)}`)
  return `${host} ${ED25519} ${dropbearEd25519Public(hostKeyFile)}\n`
}

/**
 * The server's TLS identity: the configured certificate, or a self-signed one made on first
 * start under <data_dir>/tls/ (key file mode 0600) and reused afterwards.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { Config } from '../../runtime/config.js';

export interface TlsIdentity {
  cert: string;
  key: string;
  /** Where the certificate came from. */
  source: 'configured' | 'generated' | 'self-signed (existing)';
  certPath: string;
  fingerprint256: string;
  validTo: string;
}

export async function loadTlsIdentity(config: Config, hostname: string): Promise<TlsIdentity> {
  if (config.tls.cert !== '') {
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(config.tls.cert, 'utf8');
      key = readFileSync(config.tls.key, 'utf8');
    } catch (err) {
      throw new Error(`tls.cert / tls.key: cannot read: ${(err as Error).message}`);
    }
    return describe(cert, key, 'configured', config.tls.cert);
  }
  const dir = join(config.server.data_dir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return describe(readFileSync(certPath, 'utf8'), readFileSync(keyPath, 'utf8'), 'self-signed (existing)', certPath);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 10 * 365 * 86_400_000),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, pems.cert, { mode: 0o644 });
  return describe(pems.cert, pems.private, 'generated', certPath);
}

function describe(cert: string, key: string, source: TlsIdentity['source'], certPath: string): TlsIdentity {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${certPath}: not a PEM certificate: ${(err as Error).message}`);
  }
  if (!x.checkPrivateKey(createKey(key, certPath))) throw new Error(`${certPath}: the private key does not match the certificate`);
  return { cert, key, source, certPath, fingerprint256: x.fingerprint256, validTo: x.validTo };
}

function createKey(pem: string, where: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${where}: the private key cannot be read: ${(err as Error).message}`);
  }
}

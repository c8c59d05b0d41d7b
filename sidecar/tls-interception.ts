/**
 * Certificates for intercepted hosts: a leaf per host name (or IP) minted on first use,
 * signed by the Reprise CA, with its own P-256 key (fast to generate), and kept in a bounded
 * LRU of TLS contexts. Concurrent tunnels to one new host share the one minting.
 */
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CaMaterial } from '../src/tls/ca.js';
import { Lru } from './lru.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const LEAF_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Under the 398 days that browsers and Apple platforms accept for a server certificate. */
const LEAF_DAYS = 397;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const CURVE_HASH: Record<string, string> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' };

export class LeafCertificates {
  private readonly cache: Lru<string, Promise<SecureContext>>;

  private constructor(
    private readonly caCert: x509.X509Certificate,
    private readonly caKey: webcrypto.CryptoKey,
    private readonly signing: webcrypto.Algorithm | webcrypto.EcdsaParams,
    maxEntries: number,
  ) {
    this.cache = new Lru(maxEntries);
  }

  static async create(ca: CaMaterial, maxEntries = 1000): Promise<LeafCertificates> {
    const keyObject = createPrivateKey(ca.keyPem);
    const der = keyObject.export({ format: 'der', type: 'pkcs8' });
    let importAlg: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
    let signing: webcrypto.Algorithm | webcrypto.EcdsaParams;
    if (keyObject.asymmetricKeyType === 'rsa') {
      importAlg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      signing = importAlg;
    } else if (keyObject.asymmetricKeyType === 'ec') {
      const curve = CURVES[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
      if (!curve)
        throw new Error(`CA key curve ${keyObject.asymmetricKeyDetails?.namedCurve} is not supported`);
      importAlg = { name: 'ECDSA', namedCurve: curve };
      signing = { name: 'ECDSA', hash: CURVE_HASH[curve] } as webcrypto.EcdsaParams;
    } else {
      throw new Error(`CA key type ${keyObject.asymmetricKeyType} is not supported (RSA or EC)`);
    }
    const caKey = await webcrypto.subtle.importKey('pkcs8', der, importAlg, false, ['sign']);
    return new LeafCertificates(new x509.X509Certificate(ca.certPem), caKey, signing, maxEntries);
  }

  /** The TLS context presenting a certificate for `host`. */
  contextFor(host: string): Promise<SecureContext> {
    const name = host.toLowerCase();
    let ctx = this.cache.get(name);
    if (!ctx) {
      ctx = this.issue(name).then(({ key, cert }) => createSecureContext({ key, cert }));
      // A failed minting is not remembered: the next tunnel tries again.
      ctx.catch(() => this.cache.delete(name));
      this.cache.set(name, ctx);
    }
    return ctx;
  }

  /** A new leaf certificate and its key (PEM) for `host`, a DNS name or an IP address. */
  async issue(host: string): Promise<{ key: string; cert: string }> {
    const keys = (await webcrypto.subtle.generateKey(LEAF_KEY, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const now = Date.now();
    const ski = this.caCert.getExtension(x509.SubjectKeyIdentifierExtension);
    const cert = await x509.X509CertificateGenerator.create({
      // Positive and 16 bytes, as the baseline requirements ask.
      serialNumber: '01' + randomBytes(15).toString('hex'),
      subject: [{ CN: [host] }],
      issuer: this.caCert.subjectName,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + LEAF_DAYS * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: this.caKey,
      signingAlgorithm: this.signing,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([SERVER_AUTH], false),
        new x509.SubjectAlternativeNameExtension([{ type: isIP(host) ? 'ip' : 'dns', value: host }], false),
        ski
          ? new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)
          : await x509.AuthorityKeyIdentifierExtension.create(this.caCert, false),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8)
      .toString('base64')
      .replace(/.{64}/g, '$&\n')
      .trimEnd()}\n-----END PRIVATE KEY-----\n`;
    return { key, cert: cert.toString('pem') };
  }
}

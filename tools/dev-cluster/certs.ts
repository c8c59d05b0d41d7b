/**
 * The dev cluster's PKI, minted on every start (the envtest way): a CA, the API server's
 * serving certificate for 127.0.0.1/localhost, an admin client certificate in
 * `system:masters`, and the service-account signing key. P-256 keys: generated in
 * milliseconds, and Kubernetes accepts them for TLS and for ES256 service-account tokens.
 */
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Long enough for a cluster kept with `up` for a while; the PKI is thrown away with it. */
const VALID_DAYS = 365;
export const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export interface Pem {
  cert: string;
  key: string;
}

export interface ClusterPki {
  ca: Pem;
  serving: Pem;
  admin: Pem;
  /** The service-account token signing key (private) and its public half. */
  serviceAccount: { key: string; pub: string };
  /** The certificates asked for in `PkiOptions.leaves`, by name. */
  leaves: Record<string, Pem>;
}

export interface PkiOptions {
  /** More IP addresses the API server answers on (a real node's link, the `kubernetes` ClusterIP). */
  servingIps?: string[];
  /** More certificates signed by the cluster CA (a kubelet's, kube-proxy's). */
  leaves?: Record<string, LeafSpec>;
}

const pem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .trimEnd()}\n-----END ${label}-----\n`;

const newKeys = () =>
  webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;

const exportKey = async (keys: webcrypto.CryptoKeyPair) =>
  pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));

export interface LeafSpec {
  subject: string;
  usage: string;
  sans?: x509.JsonGeneralName[];
}

async function issueLeaf(
  ca: x509.X509Certificate,
  caKeys: webcrypto.CryptoKeyPair,
  spec: LeafSpec,
): Promise<Pem> {
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01' + randomBytes(15).toString('hex'),
    subject: spec.subject,
    issuer: ca.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + VALID_DAYS * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([spec.usage], false),
      ...(spec.sans ? [new x509.SubjectAlternativeNameExtension(spec.sans, false)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys) };
}

export async function createClusterPki(opts: PkiOptions = {}): Promise<ClusterPki> {
  const caKeys = await newKeys();
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01' + randomBytes(15).toString('hex'),
    name: 'CN=reprise-dev-cluster-ca',
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + VALID_DAYS * DAY_MS),
    keys: caKeys,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const [serving, admin, saKeys] = await Promise.all([
    issueLeaf(ca, caKeys, {
      subject: 'CN=kube-apiserver',
      usage: SERVER_AUTH,
      // The in-cluster names too, so a client that dials `kubernetes.default` also verifies.
      sans: [
        { type: 'ip', value: '127.0.0.1' },
        ...(opts.servingIps ?? []).map((ip) => ({ type: 'ip' as const, value: ip })),
        { type: 'dns', value: 'localhost' },
        { type: 'dns', value: 'kubernetes' },
        { type: 'dns', value: 'kubernetes.default' },
        { type: 'dns', value: 'kubernetes.default.svc' },
        { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
      ],
    }),
    issueLeaf(ca, caKeys, { subject: 'CN=reprise-admin, O=system:masters', usage: CLIENT_AUTH }),
    newKeys(),
  ]);
  const leaves: Record<string, Pem> = {};
  for (const [name, spec] of Object.entries(opts.leaves ?? {}))
    leaves[name] = await issueLeaf(ca, caKeys, spec);
  return {
    ca: { cert: ca.toString('pem'), key: await exportKey(caKeys) },
    serving,
    admin,
    serviceAccount: {
      key: await exportKey(saKeys),
      pub: pem('PUBLIC KEY', await webcrypto.subtle.exportKey('spki', saKeys.publicKey)),
    },
    leaves,
  };
}

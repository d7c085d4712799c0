import { it, inject } from 'vitest';
import { openingBytes } from '../../../src/client/h2.js';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import { startH2Target } from '../../support/h2-target.js';
import { createTestCertificateAuthority } from '../../support/tls-ca.js';
it('scratch', async () => {
const ca = await createTestCertificateAuthority({ hosts: ['api.example.test'] });
const h2 = await startH2Target({ protocol: 'h2', tls: { key: ca.serverKey, cert: ca.serverCert } });
const api = new ToxiproxyApi(inject('toxiproxyUrl'));
const proxy = await api.createProxy({ name: 'i13var_' + process.pid, upstream: `127.0.0.1:${h2.port}` });
const count = (xs: number[]) => { const m = new Map<number, number>(); for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1); return [...m].sort((a,b)=>a[0]-b[0]); };
const transport = { protocol: 'h2', tls: { servername: 'api.example.test', ca: ca.ca, insecure: false } } as never;
for (const [name, port] of [['direct', h2.port], ['proxy', proxy.port], ['direct', h2.port]] as const) {
  const xs: number[] = [];
  for (let i = 0; i < 40; i++) xs.push(await openingBytes(`https://127.0.0.1:${port}`, transport, 5000));
  console.log(name, JSON.stringify(count(xs)));
}
await api.removeProxy(proxy.name);
await h2.stop(); await ca.remove();
}, 60000);

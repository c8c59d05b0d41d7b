/**
 * Nothing leaves the machine (KWOK): every dev cluster guards its own address block on the
 * uplinks before it starts, two clusters get different blocks, a connection to an address of
 * the Service range with no Service behind it is refused at once, and stop() removes the guard.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { guardRules, uplinks } from '../../tools/dev-cluster/guard.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { inCidr } from '../../tools/dev-cluster/slots.js';
import { connectOutcome } from '../cluster/connect-outcome.js';

describe('dev cluster guard (KWOK)', () => {
  let first: DevCluster;
  let second: DevCluster;

  before(async () => {
    [first, second] = await Promise.all([startDevCluster(), startDevCluster()]);
  });
  after(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('two clusters at once get address blocks of their own', () => {
    const [a, b] = [first.network, second.network];
    assert.notEqual(a.slot, b.slot);
    for (const ip of [b.podGateway, b.apiServiceIp, b.nodeIp])
      assert.ok(!inCidr(ip, a.block), `${ip} in ${a.block}`);
    // The machine's resolver (a private address) is never inside a guarded block.
    assert.ok(!inCidr('10.255.255.53', a.block));
  });

  it('each guards its block on every uplink, in OUTPUT and FORWARD', () => {
    const devices = uplinks();
    assert.ok(devices.length > 0, 'this machine has a default route');
    for (const cluster of [first, second]) {
      const rules = guardRules(cluster.network.slot);
      assert.equal(rules.length, devices.length * 2);
      for (const dev of devices)
        for (const chain of ['OUTPUT', 'FORWARD'])
          assert.ok(
            rules.some(
              (r) =>
                r.startsWith(`-A ${chain} -d ${cluster.network.block} -o ${dev} `) && r.includes('-j REJECT'),
            ),
            `${chain} rule for ${dev} in ${rules.join('\n')}`,
          );
    }
  });

  it('a Service address with no Service behind it is refused at once, not sent off', async () => {
    // The API server's Service range: KWOK runs no kube-proxy, so nothing here answers for it.
    const unused = first.network.serviceCidr.replace(/0\/24$/, '200');
    assert.equal(await connectOutcome(unused, 443), 'ECONNREFUSED');
    // A pod IP KWOK reports exists nowhere either.
    assert.equal(await connectOutcome(first.network.podGateway.replace(/1$/, '7'), 8080), 'ECONNREFUSED');
  });

  it('stop() removes the guard and gives the block back', async () => {
    const { slot } = second.network;
    await second.stop();
    assert.deepEqual(guardRules(slot), []);
    assert.ok(guardRules(first.network.slot).length > 0, "the other cluster's guard stays");
  });
});

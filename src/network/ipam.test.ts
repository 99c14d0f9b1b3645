import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrString, intToIp, ipToInt, macForIp, nextFreeAddress, overlaps, parseCidr, pickFreeSubnet, DEFAULT_POOLS } from './ipam.ts';

test('addresses and CIDRs round-trip; malformed ones are invalid-argument', () => {
  assert.equal(intToIp(ipToInt('172.17.0.1')), '172.17.0.1');
  assert.equal(ipToInt('255.255.255.255'), 0xffffffff);
  const p = parseCidr('10.213.5.1/24');
  assert.equal(intToIp(p.ip), '10.213.5.1');
  assert.equal(cidrString(p.cidr), '10.213.5.0/24');
  for (const bad of ['10.0.0.256/24', '10.0.0.1', '10.0.0.1/33', 'x/8']) {
    assert.throws(() => parseCidr(bad), (e: { kind?: string }) => e.kind === 'invalid-argument', bad);
  }
});

test('the first Docker pool that overlaps no host route is picked', () => {
  const taken = ['172.17.5.0/24', '172.18.0.0/16', '192.0.2.0/24'].map((s) => parseCidr(s).cidr);
  assert.equal(cidrString(pickFreeSubnet(DEFAULT_POOLS, taken)!), '172.19.0.0/16');
  assert.ok(overlaps(parseCidr('10.0.0.0/8').cidr, parseCidr('10.1.2.0/24').cidr));
  assert.ok(!overlaps(parseCidr('10.1.3.0/24').cidr, parseCidr('10.1.2.0/24').cidr));
  assert.equal(pickFreeSubnet(['10.0.0.0/8'], [parseCidr('10.9.0.0/16').cidr]), undefined);
});

test('allocation skips the network address, used addresses and the broadcast address, within --fixed-cidr', () => {
  const subnet = parseCidr('10.1.2.0/29').cidr; // .1–.6 usable
  const used = new Set([ipToInt('10.1.2.1'), ipToInt('10.1.2.2')]);
  assert.equal(intToIp(nextFreeAddress(subnet, subnet, used)!), '10.1.2.3');
  const all = new Set([1, 2, 3, 4, 5, 6].map((i) => ipToInt(`10.1.2.${i}`)));
  assert.equal(nextFreeAddress(subnet, subnet, all), undefined, '.7 is the broadcast address');
  const big = parseCidr('10.1.0.0/16').cidr;
  assert.equal(intToIp(nextFreeAddress(big, parseCidr('10.1.8.0/24').cidr, new Set())!), '10.1.8.0');
});

test('MACs follow the address, as dockerd makes them', () => {
  assert.equal(macForIp(ipToInt('172.17.0.2')), '02:42:ac:11:00:02');
});

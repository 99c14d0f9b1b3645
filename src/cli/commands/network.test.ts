import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consolidateIpam } from './network.ts';

test('consolidateIpam puts each range and gateway on its subnet, with the docker CLI\'s errors', () => {
  assert.deepEqual(consolidateIpam(['10.1.0.0/16'], ['10.1.2.0/24'], ['10.1.0.254']), [{ Subnet: '10.1.0.0/16', IPRange: '10.1.2.0/24', Gateway: '10.1.0.254', AuxiliaryAddresses: {} }]);
  assert.deepEqual(consolidateIpam([], [], []), []);
  assert.throws(() => consolidateIpam([], [], ['10.0.0.1']), /^Error: every ip-range or gateway must have a corresponding subnet$/);
  assert.throws(() => consolidateIpam(['10.1.0.0/16', '10.1.2.0/24'], [], []), /multiple overlapping subnet configuration is not supported/);
  assert.throws(() => consolidateIpam(['10.1.0.0/16'], [], ['10.2.0.1']), /no matching subnet for gateway 10\.2\.0\.1/);
  assert.throws(() => consolidateIpam(['10.1.0.0/16', '10.3.0.0/16'], ['10.1.1.0/24', '10.1.2.0/24'], []), /cannot configure multiple ranges \(10\.1\.2\.0\/24, 10\.1\.1\.0\/24\) on the same subnet \(10\.1\.0\.0\/16\)/);
});

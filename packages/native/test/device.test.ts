// device.test.ts: parsing device specs.
import assert from 'node:assert/strict';
import { CPU, deviceFromNative, deviceToString, deviceTypeCode, parseDevice } from '../src/device.js';

describe('parseDevice', () => {
  it('parses cpu, cuda and cuda:N', () => {
    assert.deepEqual(parseDevice('cpu'), { type: 'cpu', index: 0 });
    assert.deepEqual(parseDevice('cuda'), { type: 'cuda', index: 0 });
    assert.deepEqual(parseDevice('cuda:3'), { type: 'cuda', index: 3 });
    assert.deepEqual(parseDevice({ type: 'cuda', index: 1 }), { type: 'cuda', index: 1 });
  });

  it('rejects anything else with a clear TypeError', () => {
    for (const bad of ['gpu', 'cuda:', 'cuda:-1', 'cuda:1.5', 'CPU', '']) {
      assert.throws(
        () => parseDevice(bad),
        (e: Error) => e instanceof TypeError && /expected 'cpu', 'cuda'/.test(e.message),
      );
    }
  });

  it('converts to strings and native codes', () => {
    assert.equal(deviceToString(parseDevice('cuda:2')), 'cuda:2');
    assert.equal(deviceToString(CPU), 'cpu');
    assert.equal(deviceTypeCode(CPU), 0);
    assert.equal(deviceTypeCode(parseDevice('cuda')), 1);
    assert.deepEqual(deviceFromNative({ type: 1, index: 4 }), { type: 'cuda', index: 4 });
  });
});

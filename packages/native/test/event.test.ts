// event.test.ts: CPU events (timestamps) and their errors.
import assert from 'node:assert/strict';
import { DeviceEvent } from '../src/event.js';
import { Stream } from '../src/stream.js';

describe('DeviceEvent', () => {
  it('records cpu timestamps and measures elapsed time', () => {
    const s = Stream.create('cpu');
    const a = DeviceEvent.create('cpu').record(s);
    let x = 0;
    for (let i = 0; i < 1e5; i++) x += i;
    const b = DeviceEvent.create('cpu').record();
    assert.ok(x > 0);
    assert.ok(b.done());
    b.synchronize();
    assert.ok(a.elapsedMs(b) >= 0);
    assert.deepEqual(a.device, { type: 'cpu', index: 0 });
  });

  it('block(): a CPU stream waits for a CPU event at once (CPU work is synchronous); a destroyed event is refused', () => {
    const e = DeviceEvent.create('cpu').record();
    const s = Stream.create('cpu');
    assert.equal(e.block(s), e);
    e.destroy();
    assert.throws(() => e.block(s), /block: event was destroyed/);
  });

  it('says when an event was never recorded or was destroyed', () => {
    const a = DeviceEvent.create('cpu').record();
    const b = DeviceEvent.create('cpu');
    assert.throws(() => a.elapsedMs(b), /the end event was never recorded/);
    b.destroy();
    assert.throws(() => b.record(), /event was destroyed/);
  });
});

import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { BoundedExecutor } from '../../src/modelserver/bounded-executor.js';
import { CancelledError, ServerBusyError, ServerUnavailableError } from '../../src/tfserving/errors.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { open, opened };
}

describe('BoundedExecutor', () => {
  it('runs at most `concurrency` tasks, each on its own slot', async () => {
    const ex = new BoundedExecutor(2, 10);
    let running = 0;
    let peak = 0;
    const slots = new Set<number>();
    const task = async (slot: number) => {
      running++;
      peak = Math.max(peak, running);
      slots.add(slot);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return slot;
    };
    await Promise.all(ex.submitAll(Array.from({ length: 8 }, () => task)));
    expect(peak).toBe(2);
    expect([...slots].sort()).toEqual([0, 1]);
    expect(ex.stats()).toMatchObject({ running: 0, waiting: 0, completed: 8, rejected: 0, cancelled: 0 });
  });

  it('refuses a batch whole with RESOURCE_EXHAUSTED when the line cannot hold it, and counts it', async () => {
    const ex = new BoundedExecutor(1, 2);
    const g = gate();
    const first = ex.submitAll([() => g.opened]);
    const queued = ex.submitAll([async () => 'a']);
    let caught: unknown;
    try {
      ex.submitAll([async () => 'b', async () => 'c']);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ServerBusyError);
    expect((caught as ServerBusyError).code).toBe(status.RESOURCE_EXHAUSTED);
    expect((caught as Error).message).toMatch(/1 of 2 waiting, 1 of 1 running; this request needs 2/);
    expect(ex.stats()).toMatchObject({ running: 1, waiting: 1, rejected: 2 });
    g.open();
    await Promise.all([...first, ...queued]);
    // Room again once the line drains.
    await expect(Promise.all(ex.submitAll([async () => 'b', async () => 'c']))).resolves.toEqual(['b', 'c']);
  });

  it('skips a waiting task whose caller aborted, without running it', async () => {
    const ex = new BoundedExecutor(1, 4);
    const g = gate();
    const blocker = ex.submitAll([() => g.opened]);
    const controller = new AbortController();
    let ran = false;
    const [skipped] = ex.submitAll([async () => { ran = true; }], controller.signal);
    const [after] = ex.submitAll([async () => 'next']);
    controller.abort();
    g.open();
    await blocker[0];
    await expect(skipped).rejects.toBeInstanceOf(CancelledError);
    await expect(after).resolves.toBe('next');
    expect(ran).toBe(false);
    expect(ex.stats()).toMatchObject({ completed: 2, cancelled: 1 });
  });

  it('frees an aborted waiter\'s room at once, so the next request fits', async () => {
    const ex = new BoundedExecutor(1, 1);
    const g = gate();
    const [running] = ex.submitAll([() => g.opened]);
    const controller = new AbortController();
    const [aborted] = ex.submitAll([async () => 'never'], controller.signal);
    expect(() => ex.submitAll([async () => 'x'])).toThrow(ServerBusyError);
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(CancelledError);
    expect(ex.stats()).toMatchObject({ waiting: 0, cancelled: 1 });
    const [next] = ex.submitAll([async () => 'fits']);
    g.open();
    await running;
    await expect(next).resolves.toBe('fits');
  });

  it('survives thousands of callers giving up, and a task that throws synchronously', async () => {
    const ex = new BoundedExecutor(1, 10_000);
    const g = gate();
    const [running] = ex.submitAll([() => g.opened]);
    const controller = new AbortController();
    const aborted = Array.from({ length: 10_000 }, () => ex.submitAll([async () => 1], controller.signal)[0].catch((e: unknown) => e));
    controller.abort();
    expect((await Promise.all(aborted)).every((e) => e instanceof CancelledError)).toBe(true);
    g.open();
    await running;
    const [thrown] = ex.submitAll([() => { throw new Error('sync'); }]);
    await expect(thrown).rejects.toThrow('sync');
    expect(ex.stats()).toMatchObject({ running: 0, waiting: 0, cancelled: 10_000 });
    await expect(Promise.all(ex.submitAll([async () => 'ok']))).resolves.toEqual(['ok']);
  });

  it('holds room for a reservation until it runs or is released', async () => {
    const ex = new BoundedExecutor(1, 1);
    const held = ex.reserve(2);
    expect(() => ex.reserve(1)).toThrow(ServerBusyError);
    held.release();
    held.release();
    const again = ex.reserve(2);
    await expect(Promise.all(again.run([async () => 1, async () => 2]))).resolves.toEqual([1, 2]);
    expect(() => again.run([async () => 3])).toThrow(/already used/);
  });

  it('on close fails waiting tasks with UNAVAILABLE and refuses new ones', async () => {
    const ex = new BoundedExecutor(1, 4);
    const g = gate();
    const [running] = ex.submitAll([() => g.opened]);
    const [waiting] = ex.submitAll([async () => 'x']);
    ex.close();
    await expect(waiting).rejects.toBeInstanceOf(ServerUnavailableError);
    expect(() => ex.submitAll([async () => 1])).toThrow(ServerUnavailableError);
    g.open();
    await running;
  });

  it('rejects nonsense sizes with what was expected', () => {
    expect(() => new BoundedExecutor(0, 1)).toThrow(/concurrency must be an integer ≥ 1, got 0/);
    expect(() => new BoundedExecutor(1, -1)).toThrow(/maxQueue must be an integer ≥ 0, got -1/);
  });
});

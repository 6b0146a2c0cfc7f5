/**
 * Quitting at once while worker threads train. process.exit() terminates every worker; one that
 * is inside a native ONNX Runtime call then aborts the whole process (Napi::Error, exit code 134)
 * instead of exiting 130. So before the process exits with runs under way, the main thread raises
 * a shared flag and waits (briefly, synchronously: it is inside an 'exit' listener) until each busy
 * worker has reached a step boundary, where it parks on the flag with no native call in flight;
 * termination then finds only parked threads.
 */

/** [0]: 1 once the process is quitting; [1]: workers parked so far. */
export type ParkingLot = Int32Array;

/** How long an exiting process waits for busy workers to park before it exits anyway. */
export const PARK_TIMEOUT_MS = 2_000;

export function createParkingLot(): ParkingLot {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

/** In a worker, between steps: parks this thread for good once the process is quitting. */
export function parkIfQuitting(lot: ParkingLot): void {
  if (Atomics.load(lot, 0) !== 1) return;
  Atomics.add(lot, 1, 1);
  Atomics.notify(lot, 1);
  Atomics.wait(lot, 0, 1); // the flag never drops: this thread waits until it is terminated
}

/** In the main thread, as the process exits: raises the flag and waits for `busy` workers to park. */
export function parkWorkers(lot: ParkingLot, busy: number, timeoutMs = PARK_TIMEOUT_MS): void {
  if (busy === 0) return;
  Atomics.store(lot, 0, 1);
  const deadline = Date.now() + timeoutMs;
  for (let parked = Atomics.load(lot, 1); parked < busy; parked = Atomics.load(lot, 1)) {
    const left = deadline - Date.now();
    if (left <= 0) return;
    Atomics.wait(lot, 1, parked, left);
  }
}

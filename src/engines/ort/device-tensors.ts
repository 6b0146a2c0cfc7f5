/**
 * Device-resident tensors of the ORT engine on WebGPU (config key `deviceResident`): uploads to the
 * device, reads back to the host, and the disposal of every device tensor an engine holds, counted
 * (liveCount) so a test can see that stepping does not grow device memory.
 *
 * Both directions go through one-node Identity sessions on the engine's provider: an upload is an
 * Identity with its output preferred as 'gpu-buffer'; a read is the same graph with host outputs,
 * fed the device tensors. onnxruntime-node 1.30's own download (`await tensor.getData()` on a
 * 'gpu-buffer' tensor) throws a C string in its native binding ("not implemented"), which aborts
 * the process (checked on SwiftShader), so it is never called here.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from './graph.js';
import { sessionOptions, type Ort, type OrtProvider } from './runtime.js';

export const GPU_BUFFER = 'gpu-buffer';

/** Session options that put the outputs `locations` names where it says (none: every output on the host). */
export const outputOptions = (locations: Record<string, 'gpu-buffer' | 'cpu'> = {}): { preferredOutputLocation?: Record<string, 'gpu-buffer' | 'cpu'> } =>
  Object.keys(locations).length > 0 ? { preferredOutputLocation: locations } : {};

export const onDevice = (t: Tensor): boolean => t.location === GPU_BUFFER;

type Where = 'gpu-buffer' | 'cpu';

export class DeviceTensors {
  /** Every device tensor this store owns and has not disposed. */
  private readonly live = new Set<Tensor>();
  /** Identity sessions by direction and signature (names, types, dims): built once, reused. */
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  /** Uploads made once per source array (the training set), shared by the members of a stack. */
  private readonly uploads = new Map<object, Promise<Tensor>>();

  constructor(
    private readonly ort: Ort,
    private readonly provider: OrtProvider,
  ) {}

  /** How many device tensors this store holds now. */
  get liveCount(): number {
    return this.live.size;
  }

  /** Takes ownership of the device tensors among `values` (host ones are left alone). */
  adopt(values: Iterable<Tensor>): void {
    for (const t of values) if (onDevice(t)) this.live.add(t);
  }

  /** Disposes `t` if this store owns it; host tensors and foreign ones are left alone. */
  release(t: Tensor | undefined): void {
    if (t && this.live.delete(t)) t.dispose();
  }

  /** `host` copied to the device once per `key` (e.g. the training images' array): later calls share it. */
  uploadOnce(key: object, host: Tensor): Promise<Tensor> {
    let up = this.uploads.get(key);
    if (!up) {
      up = this.copy({ value: host }, GPU_BUFFER).then((out) => out.value);
      this.uploads.set(key, up);
    }
    return up;
  }

  /** The values of `named` on the host (device tensors read back, host ones as they are), by name. */
  async read(named: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
    const out: Record<string, Float32Array> = {};
    const device = Object.fromEntries(Object.entries(named).filter(([, t]) => onDevice(t)));
    for (const [name, t] of Object.entries(named)) if (!onDevice(t)) out[name] = t.data as Float32Array;
    if (Object.keys(device).length > 0) for (const [name, t] of Object.entries(await this.copy(device, 'cpu'))) out[name] = t.data as Float32Array;
    return out;
  }

  /** `named` through an Identity session whose outputs are preferred at `where`; device outputs are adopted. */
  private async copy(named: Record<string, Tensor>, where: Where): Promise<Record<string, Tensor>> {
    const names = Object.keys(named);
    const signature = `${where}|${names.map((n) => `${n}:${named[n].type}:${named[n].dims.join('x')}`).join('|')}`;
    let session = this.sessions.get(signature);
    if (!session) {
      const g = new GraphBuilder('float32');
      // Graph names are positional (in0, out0, ...): a state name may hold characters ONNX dislikes.
      names.forEach((n, i) => {
        const type = named[n].type === 'int64' ? 'int64' : 'float32';
        g.output(`out${i}`, g.op('Identity', [g.input(`in${i}`, [...named[n].dims], type)]), [...named[n].dims], type);
      });
      session = this.ort.InferenceSession.create(g.encode(), { ...sessionOptions(this.provider), preferredOutputLocation: where });
      this.sessions.set(signature, session);
    }
    const feeds = Object.fromEntries(names.map((n, i) => [`in${i}`, named[n]]));
    const out = await (await session).run(feeds);
    const result = Object.fromEntries(names.map((n, i) => [n, out[`out${i}`]]));
    if (where === GPU_BUFFER) this.adopt(Object.values(result));
    return result;
  }

  /** Disposes every device tensor held (state and uploads) and releases the Identity sessions. */
  async dispose(): Promise<void> {
    for (const t of this.live) t.dispose();
    this.live.clear();
    this.uploads.clear();
    const sessions = await Promise.all(this.sessions.values());
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s.release()));
  }
}

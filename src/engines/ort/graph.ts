/**
 * A small builder of ONNX graphs in code, over the onnx-proto message classes (ONNX 1.10 schema,
 * IR version 8, opset 15). Values are named by the builder; constants become initializers. The
 * element type of the model (float32 for training, float64 for the gradient check) is chosen once.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

/** The highest opset the onnx-proto schema (ONNX 1.10) knows; ReduceMean still takes axes as an attribute. */
export const OPSET = 15;
const IR_VERSION = 8;

export type FloatType = 'float32' | 'float64';
type ElemType = FloatType | 'int64';

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
};

/** Attribute values: every attribute this project uses is an integer or a list of integers. */
type Attrs = Record<string, number | number[]>;

function attribute(name: string, value: number | number[]): OnnxTypes.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  return Array.isArray(value) ? { name, type: AttributeType.INTS, ints: value } : { name, type: AttributeType.INT, i: value };
}

function valueInfo(name: string, type: ElemType, dims: number[]): OnnxTypes.IValueInfoProto {
  return { name, type: { tensorType: { elemType: ELEM[type], shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

export class GraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private count = 0;

  constructor(readonly dtype: FloatType) {}

  /** A graph input of the model's float type (or `type`). */
  input(name: string, dims: number[], type: ElemType = this.dtype): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Exposes `value` as the graph output `name`. */
  output(name: string, value: string, dims: number[], type: ElemType = this.dtype): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A constant of the model's float type: a scalar, or a 1-D tensor for an array. */
  scalar(value: number): string {
    return this.constant(this.dtype, [value], []);
  }

  /** A constant of the model's float type with the given dims. */
  floats(values: number[], dims: number[]): string {
    return this.constant(this.dtype, values, dims);
  }

  /** A 1-D int64 constant (axes, shapes, indices). */
  ints(values: number[]): string {
    return this.constant('int64', values, [values.length]);
  }

  private constant(type: ElemType, values: number[], dims: number[]): string {
    const name = `c${this.count++}`;
    const t: OnnxTypes.ITensorProto = { name, dataType: ELEM[type], dims };
    if (type === 'int64') t.int64Data = values;
    else if (type === 'float64') t.doubleData = values;
    else t.floatData = values;
    this.initializers.push(t);
    return name;
  }

  /** One node; returns the name of its (single) output. */
  op(opType: string, inputs: string[], attrs: Attrs = {}): string {
    const out = `v${this.count++}`;
    this.nodes.push({ opType, input: inputs, output: [out], name: out, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  // The ops the nets need, named as tfjs names them.
  add = (a: string, b: string) => this.op('Add', [a, b]);
  sub = (a: string, b: string) => this.op('Sub', [a, b]);
  mul = (a: string, b: string) => this.op('Mul', [a, b]);
  div = (a: string, b: string) => this.op('Div', [a, b]);
  matMul = (a: string, b: string) => this.op('MatMul', [a, b]);
  sigmoid = (a: string) => this.op('Sigmoid', [a]);
  transpose = (a: string) => this.op('Transpose', [a], { perm: [1, 0] });
  /** Mean over `axes`, dropping them. */
  mean = (a: string, axes: number[]) => this.op('ReduceMean', [a], { axes, keepdims: 0 });
  /** Sum over `axes`, dropping them (no axes: every element, a scalar). */
  sum = (a: string, axes?: number[]) => this.op('ReduceSum', axes ? [a, this.ints(axes)] : [a], { keepdims: 0 });
  reshape = (a: string, dims: number[]) => this.op('Reshape', [a, this.ints(dims)]);

  /** The serialized model, ready for InferenceSession.create. */
  encode(): Uint8Array {
    const graph = { name: 'bn_repro', node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
    const model = { irVersion: IR_VERSION, opsetImport: [{ domain: '', version: OPSET }], producerName: 'bn-repro', graph };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

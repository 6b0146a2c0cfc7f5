/**
 * The Event and Summary protobuf messages of TensorBoard's event files, the part of them a scalar
 * writer uses, with the field numbers of tensorflow/core/util/event.proto and
 * tensorflow/core/framework/summary.proto (Event: wall_time 1, step 2, file_version 3, summary 5;
 * Summary: value 1; Summary.Value: tag 1, simple_value 2). Encoded with protobufjs.
 */
import protobuf from 'protobufjs';

/** The file_version of the first event of every file, which TensorBoard checks. */
export const FILE_VERSION = 'brain.Event:2';

export interface ScalarValue {
  tag: string;
  /** Stored as float32 (simple_value). */
  value: number;
}

/** The message types, built once per call site from the field numbers (schemas, not state). */
function eventType(): protobuf.Type {
  const value = new protobuf.Type('Value').add(new protobuf.Field('tag', 1, 'string')).add(new protobuf.Field('simpleValue', 2, 'float'));
  const summary = new protobuf.Type('Summary').add(new protobuf.Field('value', 1, 'Value', 'repeated'));
  const event = new protobuf.Type('Event')
    .add(new protobuf.Field('wallTime', 1, 'double'))
    .add(new protobuf.Field('step', 2, 'int64'))
    .add(new protobuf.Field('fileVersion', 3, 'string'))
    .add(new protobuf.Field('summary', 5, 'Summary'));
  new protobuf.Root().add(value).add(summary).add(event).resolveAll();
  return event;
}

/** Encodes and decodes the events of one writer. */
export class EventCodec {
  private readonly event = eventType();

  fileVersion(wallTime: number): Uint8Array {
    return this.event.encode(this.event.create({ wallTime, step: 0, fileVersion: FILE_VERSION })).finish();
  }

  scalars(wallTime: number, step: number, values: ScalarValue[]): Uint8Array {
    const value = values.map((v) => ({ tag: v.tag, simpleValue: v.value }));
    return this.event.encode(this.event.create({ wallTime, step, summary: { value } })).finish();
  }

  /** The step of an encoded event, and whether it is the file_version event. */
  stepOf(data: Uint8Array): { step: number; isVersion: boolean } {
    const decoded = this.event.toObject(this.event.decode(data), { longs: Number }) as { step?: number; fileVersion?: string };
    return { step: decoded.step ?? 0, isVersion: decoded.fileVersion !== undefined };
  }
}

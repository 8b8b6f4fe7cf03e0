// One fuzz input through everything a socket client controls before dispatch:
// the frame decoder (whole, and re-chunked at a stride the input chooses) and
// the request and response validators. The only acceptable failure is a
// VmsupError; anything else thrown, or an invariant below broken, is a bug.
// Used by Jazzer.js (fuzz/protocol.fuzz.js, libFuzzer underneath), by the
// seeded fallback fuzzer (scripts/fuzz-protocol.mjs) and by a bounded slice in
// npm test (daemon/protocol/fuzz.test.ts).
import { isDeepStrictEqual } from 'node:util';
import { VmsupError } from './errors.js';
import { encodeFrame, FrameDecoder, MAX_FRAME } from './frames.js';
import { parseRequest, parseResponse } from './messages.js';

export class FuzzFinding extends Error {}

function tolerate(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof VmsupError)) throw e;
  }
}

/** Decodes `bytes` fed in chunks of `stride` (0: one chunk); VmsupError ends the stream like the server does. */
function decodeAll(bytes: Buffer, stride: number): { frames: Record<string, unknown>[]; error?: string } {
  const dec = new FrameDecoder();
  const frames: Record<string, unknown>[] = [];
  try {
    if (stride === 0) frames.push(...dec.push(bytes));
    else for (let i = 0; i < bytes.length; i += stride) frames.push(...dec.push(bytes.subarray(i, i + stride)));
  } catch (e) {
    if (!(e instanceof VmsupError)) throw e;
    return { frames, error: e.code };
  }
  return { frames };
}

/** The first byte chooses the mode: even = the rest is a raw byte stream; odd = the rest
 * is one frame's JSON body (so mutations reach the validators, not only the header). */
export function fuzzProtocolOne(data: Uint8Array): void {
  if (data.length === 0) return;
  const mode = data[0];
  let bytes = Buffer.from(data.subarray(1));
  if (mode & 1) {
    if (bytes.length === 0 || bytes.length > MAX_FRAME) return;
    const head = Buffer.alloc(4);
    head.writeUInt32BE(bytes.length, 0);
    bytes = Buffer.concat([head, bytes]);
  }
  const whole = decodeAll(bytes, 0);
  const stride = 1 + (mode >> 1);
  const chunked = decodeAll(bytes, stride);
  // Reassembly must not depend on how the bytes were cut: the same frames and the same
  // error. (A bad frame throws away the good frames of the same push(), so with an error
  // the whole-buffer run may have only a prefix of the chunked run's frames: the
  // connection is closed either way.)
  const same = whole.error === chunked.error &&
    (whole.error === undefined
      ? isDeepStrictEqual(whole.frames, chunked.frames)
      : isDeepStrictEqual(whole.frames, chunked.frames.slice(0, whole.frames.length)));
  if (!same) throw new FuzzFinding(`decoding differs at stride ${stride}`);
  for (const f of whole.frames) {
    tolerate(() => {
      const r = parseRequest(f);
      // A request that passed must pass again unchanged, and survive the wire.
      const again = parseRequest({ id: r.id, type: r.type, params: r.params });
      if (!isDeepStrictEqual({ ...again.params as object }, { ...r.params as object })) throw new FuzzFinding('parseRequest is not idempotent');
      const round = new FrameDecoder().push(encodeFrame({ id: r.id, type: r.type, params: r.params }));
      if (round.length !== 1) throw new FuzzFinding('a checked request does not re-encode as one frame');
      // No field is silently ignored: every key the client sent is in the checked params
      // (a shape check using `k in shape` let "__proto__", "toString" … pass unseen).
      const sent = f.params as Record<string, unknown> | undefined;
      const got = r.params as Record<string, unknown>;
      for (const [inObj, outObj] of [[sent, got], [sent?.config, got.config]] as [unknown, unknown][])
        if (inObj && typeof inObj === 'object' && !Array.isArray(inObj))
          for (const k of Object.keys(inObj))
            if (!outObj || !Object.hasOwn(outObj as object, k)) throw new FuzzFinding(`field "${k}" passed the check unseen`);
      // Nothing inherited may come through as a field.
      for (const k of ['__proto__', 'constructor', 'prototype'])
        if (Object.hasOwn(r.params as object, k)) throw new FuzzFinding(`params carries "${k}"`);
    });
    tolerate(() => void parseResponse(f));
  }
}

// Worker thread: compresses tar-stream blocks into independent gzip members.
// Must be an extra entry point of `bun build --compile` (see writer.ts).
import { gzipBlock, type CompressReply, type CompressRequest } from "./gzip.ts";

declare const self: Worker;

self.onmessage = (e: MessageEvent<CompressRequest>) => {
  const { id, buf, len, level } = e.data;
  let reply: CompressReply;
  try {
    const out = gzipBlock(new Uint8Array(buf, 0, len), level);
    reply = { id, buf, out: out.buffer as ArrayBuffer, outOffset: out.byteOffset, outLength: out.byteLength };
    self.postMessage(reply, [buf, reply.out]);
  } catch (err) {
    reply = { id, buf, error: String((err as Error)?.message ?? err) };
    self.postMessage(reply, [buf]);
  }
};

// From a location string to a Location: the one place that picks the implementation.
import { resolve } from "node:path";
import { FolderLocation } from "./folder.ts";
import { parseLocation, type Location } from "./location.ts";
import { S3Location, s3ConfigFromEnv } from "./s3.ts";

export function openLocation(text: string, opts: { env?: Record<string, string | undefined>; signal?: AbortSignal } = {}): Location {
  const parsed = parseLocation(text);
  if (parsed.kind === "folder") return new FolderLocation(resolve(parsed.path));
  return new S3Location(parsed.bucket, parsed.prefix, s3ConfigFromEnv(opts.env ?? process.env), opts.signal);
}

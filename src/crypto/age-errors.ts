// Typed errors of the age layer. `label` is what the caller calls the file
// (an archive name); messages start with it so one line says which archive.
import { DsError, ExitCode } from "../errors.ts";

function prefix(label: string | undefined): string {
  return label ? `${label}: ` : "";
}

/** None of the identities or passphrases given opens the file (or none was given). */
export class AgeNoIdentityError extends DsError {
  override readonly exitCode = ExitCode.noKey;
  constructor(
    readonly label: string | undefined,
    detail: string,
  ) {
    super(`${prefix(label)}${detail}`);
  }
}

/** The header is not an age v1 header, or its MAC does not match (altered header). */
export class AgeHeaderError extends DsError {
  constructor(
    readonly label: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${prefix(label)}not a valid age file: ${detail}`, options);
  }
}

/** A payload chunk does not authenticate: the file was altered (or cut inside its last chunk). */
export class AgeAuthenticationError extends DsError {
  constructor(
    readonly label: string | undefined,
    /** 0-based STREAM chunk number. */
    readonly chunk: number,
    detail: string,
  ) {
    super(`${prefix(label)}${detail}`);
  }
}

/** The file ends early: its size is no valid age length, or it stops before its final chunk. */
export class AgeTruncatedError extends DsError {
  constructor(
    readonly label: string | undefined,
    detail: string,
  ) {
    super(`${prefix(label)}truncated: ${detail}`);
  }
}

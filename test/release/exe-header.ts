// Minimal readers of executable headers, to check what a cross build is
// without running it: 64-bit little-endian ELF (OS ABI, machine, program
// interpreter) and 64-bit Mach-O (CPU type, file type).

export interface ElfInfo {
  readonly kind: "elf";
  /** e_ident[EI_OSABI]: 0 System V (Linux uses it), 3 GNU/Linux, 9 FreeBSD. */
  readonly osabi: number;
  /** e_machine: 62 x86-64, 183 AArch64. */
  readonly machine: number;
  /** e_type: 2 executable, 3 shared object (PIE). */
  readonly type: number;
  /** PT_INTERP: the dynamic loader the kernel starts, or null for a static file. */
  readonly interpreter: string | null;
}

export interface MachOInfo {
  readonly kind: "macho";
  /** cputype: 0x01000007 x86_64, 0x0100000c arm64. */
  readonly cputype: number;
  /** filetype: 2 MH_EXECUTE. */
  readonly filetype: number;
}

export const ELF_MACHINE = { x64: 62, arm64: 183 } as const;
export const MACHO_CPU = { x64: 0x01000007, arm64: 0x0100000c } as const;
export const MH_EXECUTE = 2;
const MH_MAGIC_64 = 0xfeedfacf;
const PT_INTERP = 3;

/** Decode the header of an executable. Throws on anything but 64-bit little-endian ELF or Mach-O. */
export function readExecutableHeader(buf: Uint8Array): ElfInfo | MachOInfo {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length >= 32 && view.getUint32(0, true) === MH_MAGIC_64) {
    // mach_header_64: magic(0) cputype(4) cpusubtype(8) filetype(12) ncmds(16) ...
    return { kind: "macho", cputype: view.getUint32(4, true), filetype: view.getUint32(12, true) };
  }
  if (buf.length >= 64 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46) {
    if (buf[4] !== 2) throw new Error("not a 64-bit ELF file");
    if (buf[5] !== 1) throw new Error("not a little-endian ELF file");
    // Elf64_Ehdr: e_type(16) e_machine(18) e_phoff(32) e_phentsize(54) e_phnum(56)
    const phoff = Number(view.getBigUint64(32, true));
    const phentsize = view.getUint16(54, true);
    const phnum = view.getUint16(56, true);
    let interpreter: string | null = null;
    for (let i = 0; i < phnum; i++) {
      const ph = phoff + i * phentsize;
      // Elf64_Phdr: p_type(0) p_flags(4) p_offset(8) p_vaddr(16) p_paddr(24) p_filesz(32)
      if (view.getUint32(ph, true) !== PT_INTERP) continue;
      const offset = Number(view.getBigUint64(ph + 8, true));
      const size = Number(view.getBigUint64(ph + 32, true));
      interpreter = new TextDecoder().decode(buf.subarray(offset, offset + size)).replace(/\0+$/, "");
    }
    return { kind: "elf", osabi: buf[7]!, machine: view.getUint16(18, true), type: view.getUint16(16, true), interpreter };
  }
  throw new Error("neither a 64-bit ELF nor a 64-bit Mach-O file");
}

const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_HASHTYPE_SHA256 = 2;

export interface CodeSignatureCheck {
  /** Every page hash of the CodeDirectory matches the file, and it covers everything before the signature. */
  readonly valid: boolean;
  /** CodeDirectory flags: 0x2 ad hoc, 0x20000 linker-signed, 0x10000 hardened runtime. */
  readonly flags: number;
  readonly pages: number;
  readonly badPages: number;
}

/**
 * Check a 64-bit Mach-O's embedded code signature the way the kernel checks
 * pages: LC_CODE_SIGNATURE -> SuperBlob -> CodeDirectory, SHA-256 of each
 * page up to codeLimit. (Big-endian blobs; Apple's cs_blobs.h layout.)
 * Null when the file has no signature. Apple Silicon refuses to start an
 * executable whose signature is missing or does not match.
 */
export function checkCodeSignature(file: Uint8Array): CodeSignatureCheck | null {
  const le = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const ncmds = le.getUint32(16, true);
  let off = 32;
  let sigOffset = -1;
  for (let i = 0; i < ncmds; i++) {
    if (le.getUint32(off, true) === LC_CODE_SIGNATURE) sigOffset = le.getUint32(off + 8, true);
    off += le.getUint32(off + 4, true);
  }
  if (sigOffset < 0) return null;
  if (le.getUint32(sigOffset, false) !== CSMAGIC_EMBEDDED_SIGNATURE) throw new Error("LC_CODE_SIGNATURE does not point at a signature");
  const count = le.getUint32(sigOffset + 8, false);
  for (let i = 0; i < count; i++) {
    const cd = sigOffset + le.getUint32(sigOffset + 12 + 8 * i + 4, false);
    if (le.getUint32(cd, false) !== CSMAGIC_CODEDIRECTORY) continue;
    // CodeDirectory: magic(0) length(4) version(8) flags(12) hashOffset(16) identOffset(20)
    // nSpecialSlots(24) nCodeSlots(28) codeLimit(32) hashSize(36) hashType(37) platform(38) pageSize(39, log2)
    const flags = le.getUint32(cd + 12, false);
    const hashOffset = le.getUint32(cd + 16, false);
    const pages = le.getUint32(cd + 28, false);
    const codeLimit = le.getUint32(cd + 32, false);
    const hashSize = file[cd + 36]!;
    if (file[cd + 37] !== CS_HASHTYPE_SHA256 || hashSize !== 32) throw new Error("CodeDirectory does not use SHA-256");
    const pageSize = 2 ** file[cd + 39]!;
    let badPages = 0;
    for (let p = 0; p < pages; p++) {
      const page = file.subarray(p * pageSize, Math.min((p + 1) * pageSize, codeLimit));
      const digest = new Bun.CryptoHasher("sha256").update(page).digest();
      const stored = file.subarray(cd + hashOffset + p * hashSize, cd + hashOffset + (p + 1) * hashSize);
      if (!digest.equals(stored)) badPages++;
    }
    return { valid: badPages === 0 && codeLimit === sigOffset, flags, pages, badPages };
  }
  throw new Error("code signature without a CodeDirectory");
}

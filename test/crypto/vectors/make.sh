#!/usr/bin/env bash
# How the committed age test vectors were made, with Debian's age 1.1.1.
# The key is a test key, published here on purpose; never use it for data.
# plain-70000 is pattern(70000) from ../age-cli.ts: byte i = (i*7 + (i>>8)) & 255.
set -euo pipefail
cd "$(dirname "$0")"
age-keygen -o x25519-key.txt
bun -e 'const n=70000,b=new Uint8Array(n);for(let i=0;i<n;i++)b[i]=(i*7+(i>>8))&255;await Bun.write("/tmp/plain-70000",b)'
age -e -r "$(age-keygen -y x25519-key.txt)" -o x25519-70000.age /tmp/plain-70000
# age reads a passphrase only from a terminal.
printf 'vector passphrase\nvector passphrase\n' | script -qec "age -p -o $PWD/scrypt-hello.age /dev/stdin <<<'hello, age'" /dev/null >/dev/null

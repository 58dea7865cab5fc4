#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# embed.py BINARY OUTPUT.c: the exec trampoline as a C array (runtime/trampoline.c seals a copy of
# it into a memfd for every container process; see runtime/trampoline/ctrmgr-exec.c).
import sys

data = open(sys.argv[1], 'rb').read()
lines = []
for i in range(0, len(data), 16):
    lines.append('        ' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',')
with open(sys.argv[2], 'w') as f:
    f.write('/* Generated from %s by runtime/trampoline/embed.py: do not edit. */\n'
            '#include <stddef.h>\n\n'
            'extern const unsigned char trampoline_elf[];\n'
            'extern const size_t trampoline_elf_size;\n\n'
            'const unsigned char trampoline_elf[] = {\n%s\n};\n'
            'const size_t trampoline_elf_size = sizeof trampoline_elf;\n'
            % (sys.argv[1].split('/')[-1], '\n'.join(lines)))

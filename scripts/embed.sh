#!/bin/sh
# Writes a C file defining `const char NAME[]` with the bytes of FILE (the built-in config).
# usage: scripts/embed.sh NAME FILE > OUT.c
set -e
name=$1
file=$2
echo "/* generated from $file by scripts/embed.sh: edit $file, not this */"
echo "const char $name[] ="
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' "$file"
echo "    ;"

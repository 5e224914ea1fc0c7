#!/bin/sh
# Writes a C file defining `const char NAME[]` with the bytes of FILE (the built-in config).
set -e

usage() {
    cat <<EOF2
usage: scripts/embed.sh NAME FILE > OUT.c
Writes to stdout a C file defining \`const char NAME[]\` with the text of FILE
(the Makefile builds src/data/default_config.c from examples/synthetic.json this way).
  NAME        a C identifier
  FILE        the text file to embed
  -h, --help  this text
EOF2
}
die_usage() {
    echo "embed.sh: $1" >&2
    usage >&2
    exit 2
}
case ${1:-} in
    -h | --help) usage; exit 0 ;;
esac
for arg in "$@"; do
    case $arg in -?*) die_usage "unknown option '$arg'" ;; esac
done
[ $# -eq 2 ] || die_usage "expected NAME FILE, got $# arguments"
name=$1
file=$2
case $name in
    '' | [0-9]* | *[!A-Za-z0-9_]*) die_usage "NAME '$name' is not a C identifier" ;;
esac
[ -f "$file" ] && [ -r "$file" ] || die_usage "FILE '$file': no such readable file"
echo "/* generated from $file by scripts/embed.sh: edit $file, not this */"
echo "const char $name[] ="
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' "$file"
echo "    ;"

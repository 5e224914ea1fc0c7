#!/usr/bin/env bash
# Erasure and the other names of a registered output file, with the test build ($HYPERP):
# a file with hard links is rewritten in place (every name loses the customer); a path
# replaced by a symbolic link after registration is followed only to the very file that was
# registered (device and inode), otherwise reported as not reached and left alone (the link
# stays a link, its target untouched). Ends with "test_erase_links_cli.sh: N passed, M failed".
set -u
. "$(dirname "$0")/cli_lib.sh"
export HYPERP_DB="$tmp/state/hyperp.db"
unset HYPERP_PRIVACY_CONFIG
printf '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n' > "$tmp/key"
chmod 600 "$tmp/key"
export HYPERP_PSEUDONYM_KEY_FILE="$tmp/key"

check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
count() { grep -ca -- "$2" "$1" 2>/dev/null; } # count FILE PATTERN: matching lines
inode() { stat -c %i "$1"; }

V=ORG_US_000007
mkdir -p "$tmp/out" "$tmp/elsewhere"
"$H" privacy consent give "$V" --purpose personalisation --notice v1 --source web > /dev/null 2>&1
printf 'note about %s: call back\nnote about ORG_US_000070\nsee %s.\n' "$V" "$V" > "$tmp/notes.txt"
mask() { "$H" privacy scan "$tmp/notes.txt" --mask "$1" > /dev/null 2>&1; }

# (a) a masked file with a second hard link elsewhere
mask "$tmp/out/linked.masked"
ln "$tmp/out/linked.masked" "$tmp/elsewhere/linked.copy"
ino_a=$(inode "$tmp/out/linked.masked")
# (b) the registered path moved away and replaced by a link to another file naming the customer
mask "$tmp/out/swapped.masked"
mv "$tmp/out/swapped.masked" "$tmp/elsewhere/swapped.moved"
printf 'unrelated file about %s\n' "$V" > "$tmp/elsewhere/other.txt"
cp "$tmp/elsewhere/other.txt" "$tmp/other.copy"
ln -s "$tmp/elsewhere/other.txt" "$tmp/out/swapped.masked"
# (c) the registered file moved away, a link to it left at the registered path
mask "$tmp/out/moved.masked"
mv "$tmp/out/moved.masked" "$tmp/elsewhere/moved.real"
ln -s "$tmp/elsewhere/moved.real" "$tmp/out/moved.masked"
# (d) the customer's own export with a second hard link
"$H" privacy export "$V" --out "$tmp/out/victim.json" > /dev/null 2>&1
ln "$tmp/out/victim.json" "$tmp/elsewhere/victim.copy"

out=$("$H" privacy erase "$V" 2>&1)
rc=$?
check erase_exit_0 [ "$rc" -eq 0 ]
check erase_counts grep -q "output files rewritten 2, removed 1" <<<"$out"
# (a) both names clean, still one file
check hardlink_name_clean [ "$(count "$tmp/out/linked.masked" "$V")" -eq 0 ]
check hardlink_other_name_clean [ "$(count "$tmp/elsewhere/linked.copy" "$V")" -eq 0 ]
check hardlink_kept_others [ "$(count "$tmp/elsewhere/linked.copy" ORG_US_000070)" -eq 1 ]
same_inode() { [ "$(inode "$1")" = "$ino_a" ] && [ "$(inode "$2")" = "$ino_a" ]; }
check hardlink_same_inode same_inode "$tmp/out/linked.masked" "$tmp/elsewhere/linked.copy"
check hardlink_still_600 [ "$(stat -c %a "$tmp/out/linked.masked")" = 600 ]
# (b) reported, the link left a link, its target untouched
check swapped_reported grep -q "not reached: 1 registered file: $tmp/out/swapped.masked (replaced by a symbolic link since it was registered, to a file that is not the one registered" <<<"$out"
check swapped_warned grep -q "^hyperp: warning: 1 registered file could not be checked" <<<"$out"
check swapped_still_link [ -L "$tmp/out/swapped.masked" ]
check swapped_target_untouched cmp -s "$tmp/elsewhere/other.txt" "$tmp/other.copy"
# (c) the real file rewritten through the link, the link kept
check moved_target_clean [ "$(count "$tmp/elsewhere/moved.real" "$V")" -eq 0 ]
check moved_target_kept_others [ "$(count "$tmp/elsewhere/moved.real" ORG_US_000070)" -eq 1 ]
check moved_still_link [ -L "$tmp/out/moved.masked" ]
# (d) the export deleted, its other name emptied
check export_deleted [ ! -e "$tmp/out/victim.json" ]
check export_other_name_clean [ "$(count "$tmp/elsewhere/victim.copy" "$V")" -eq 0 ]
# no temporary file left beside any of them
check no_tmp_files [ -z "$(ls "$tmp/out" "$tmp/elsewhere" | grep '\.tmp\.')" ]
cli_summary test_erase_links_cli.sh

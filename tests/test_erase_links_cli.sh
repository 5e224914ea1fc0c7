#!/usr/bin/env bash
# Erasure and the other names of a registered output file or audit export, with the test build
# ($HYPERP): a file with hard links is rewritten in place (every name loses the customer); a
# path on which a symbolic link appeared after registration (the file itself or a folder on the
# way) is followed only to the very file that was registered (device and inode; an export has
# none recorded: never), otherwise reported as not reached and left alone (the link stays a
# link, its target untouched). Ends with "test_erase_links_cli.sh: N passed, M failed".
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

# A second store. (e) a folder on a registered path swapped for a symbolic link to another folder
# holding a file of the same name: that file is not the registered one (device and inode), so it
# is left as it was and reported
export HYPERP_DB="$tmp/state2/hyperp.db"
W=ORG_US_000009
"$H" privacy consent give "$W" --purpose personalisation --notice v1 --source web > /dev/null 2>&1
printf 'note about %s\nnote about ORG_US_000070\n' "$W" > "$tmp/notes.txt"
mkdir -p "$tmp/two/folder" "$tmp/two/moved" "$tmp/two/decoy" "$tmp/two/elsewhere"
mask "$tmp/two/folder/notes.masked"
mv "$tmp/two/folder" "$tmp/two/folder.real"
printf 'decoy about %s\n' "$W" > "$tmp/two/decoy/notes.masked"
cp "$tmp/two/decoy/notes.masked" "$tmp/decoy.copy"
ln -s "$tmp/two/decoy" "$tmp/two/folder"
# (f) a folder moved, a link to it left: the link leads to the registered file, rewritten in place
mask "$tmp/two/moved/notes.masked"
mv "$tmp/two/moved" "$tmp/two/moved.real"
ln -s "$tmp/two/moved.real" "$tmp/two/moved"
ino_f=$(inode "$tmp/two/moved.real/notes.masked")
# (g) an audit export with a second hard link elsewhere
ps=$("$H" privacy export "$W" | grep -o '"pseudonym": "ps_[0-9a-f]*"' | grep -o 'ps_[0-9a-f]*')
"$H" audit export --out "$tmp/two/audit.jsonl" > /dev/null 2>&1
ln "$tmp/two/audit.jsonl" "$tmp/two/elsewhere/audit.copy"
ino_g=$(inode "$tmp/two/audit.jsonl")
lines_g=$(wc -l < "$tmp/two/audit.jsonl")
# (h) an audit export moved away and a link to it put at its path (no identity is recorded for
# an export: never followed)
"$H" audit export --out "$tmp/two/swapped.jsonl" > /dev/null 2>&1
mv "$tmp/two/swapped.jsonl" "$tmp/two/elsewhere/swapped.moved"
cp "$tmp/two/elsewhere/swapped.moved" "$tmp/swapped.copy"
ln -s "$tmp/two/elsewhere/swapped.moved" "$tmp/two/swapped.jsonl"
check pseudonym_known [ -n "$ps" ] && [ "$(count "$tmp/two/audit.jsonl" "$ps")" -ge 1 ]

out=$("$H" privacy erase "$W" 2>&1)
rc=$?
check erase2_exit_0 [ "$rc" -eq 0 ]
check erase2_counts grep -q "export files rewritten 1; output files rewritten 1, removed 0" <<<"$out"
check erase2_warned grep -q "^hyperp: warning: 2 registered files could not be checked" <<<"$out"
# (e)
check folder_swap_reported grep -qF "$tmp/two/folder/notes.masked (a folder on its path was replaced by a symbolic link since it was registered, leading to a file that is not the one registered: not followed, that file not checked)" <<<"$out"
check folder_swap_decoy_untouched cmp -s "$tmp/two/decoy/notes.masked" "$tmp/decoy.copy"
check folder_swap_still_link [ -L "$tmp/two/folder" ]
check folder_swap_real_untouched [ "$(count "$tmp/two/folder.real/notes.masked" "$W")" -eq 1 ]
# (f)
check folder_moved_clean [ "$(count "$tmp/two/moved.real/notes.masked" "$W")" -eq 0 ]
check folder_moved_kept_others [ "$(count "$tmp/two/moved.real/notes.masked" ORG_US_000070)" -eq 1 ]
check folder_moved_same_inode [ "$(inode "$tmp/two/moved.real/notes.masked")" = "$ino_f" ]
check folder_moved_still_link [ -L "$tmp/two/moved" ]
# (g) both names redacted, one file still, every entry kept, the chain intact under both
check audit_name_clean [ "$(count "$tmp/two/audit.jsonl" "$ps")" -eq 0 ]
check audit_other_name_clean [ "$(count "$tmp/two/elsewhere/audit.copy" "$ps")" -eq 0 ]
same_inode_g() { [ "$(inode "$1")" = "$ino_g" ] && [ "$(inode "$2")" = "$ino_g" ]; }
check audit_same_inode same_inode_g "$tmp/two/audit.jsonl" "$tmp/two/elsewhere/audit.copy"
check audit_kept_entries [ "$(wc -l < "$tmp/two/elsewhere/audit.copy")" -eq "$lines_g" ]
check audit_other_name_verifies eval "\"\$H\" audit verify --file \"\$tmp/two/elsewhere/audit.copy\" 2>&1 | grep -q 'audit chain intact'"
# (h)
check audit_swap_reported grep -qF "$tmp/two/swapped.jsonl (a symbolic link on its path since it was recorded, and which file was recorded is not known: not followed, the link's target not checked)" <<<"$out"
check audit_swap_still_link [ -L "$tmp/two/swapped.jsonl" ]
check audit_swap_target_untouched cmp -s "$tmp/two/elsewhere/swapped.moved" "$tmp/swapped.copy"
check no_tmp_files2 [ -z "$(ls "$tmp/two" "$tmp/two/elsewhere" "$tmp/two/decoy" | grep '\.tmp')" ]
cli_summary test_erase_links_cli.sh

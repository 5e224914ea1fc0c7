#!/usr/bin/env bash
# hyperp privacy / audit end to end with the test build ($HYPERP): consent, gate errors,
# export, erase (no trace in the store files), purge, report, PII scan, audit verify and
# tamper detection. Ends with "test_privacy_cli.sh: N passed, M failed".
set -u
. "$(dirname "$0")/cli_lib.sh"
export HYPERP_DB="$tmp/state/hyperp.db"
unset HYPERP_PSEUDONYM_KEY HYPERP_PSEUDONYM_KEY_FILE HYPERP_PRIVACY_CONFIG

expect help 0 "consent give" -- "$H" privacy --help
expect audit_help 0 "audit verify" -- "$H" audit --help
expect no_key 2 "no pseudonym key: set HYPERP_PSEUDONYM_KEY_FILE" -- "$H" privacy consent give C1 --purpose marketing --notice v1
printf '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n' > "$tmp/key"
chmod 600 "$tmp/key"
export HYPERP_PSEUDONYM_KEY_FILE="$tmp/key"
expect give 0 "recorded: give personalisation for C-100" -- "$H" privacy consent give C-100 --purpose personalisation --notice v3 --source web
expect give2 0 "recorded" -- "$H" privacy consent give C-200 --purpose personalization --notice v3 --at 2024-05-01
expect created_on_first_use 0 "" -- test -f "$HYPERP_DB"
expect bad_id 2 "customer id 'C 1!'" -- "$H" privacy consent give "C 1!" --purpose marketing --notice v1
# ids are stored in clear: a card number (PCI-DSS), an e-mail address is refused before
# anything is stored, without being quoted
expect pan_id 2 "customer id looks like a card number \(PCI-DSS.*use a pseudonymous id" -- "$H" privacy consent give 4111111111111111 --purpose personalisation --notice v1 --source web
expect email_id 2 "customer id looks like an e-mail address.*use a pseudonymous id" -- "$H" privacy consent withdraw alice@example.com --purpose marketing
out=$("$H" privacy consent give 4111111111111111 --purpose marketing --notice v1 --db "$tmp/pan.db" 2>&1)
if [ $? -eq 2 ] && ! grep -q 4111111111111111 <<<"$out" && [ ! -e "$tmp/pan.db" ]; then ok pan_not_quoted_no_store; else fail "pan_not_quoted_no_store: $out"; fi
held=$(sqlite3 "$HYPERP_DB" "SELECT count(*) FROM customers WHERE id IN ('4111111111111111', 'alice@example.com'); SELECT count(*) FROM consent WHERE customer_id LIKE '%4111%' OR customer_id LIKE '%@example.com'")
if [ "$held" = $'0\n0' ] && ! grep -qa -e 4111111111111111 -e alice@example.com "$HYPERP_DB" "$HYPERP_DB-wal" 2>/dev/null; then ok pan_email_not_stored; else fail "pan_email_not_stored: $held"; fi
expect bad_purpose 2 "unknown purpose 'spam'" -- "$H" privacy consent give C-100 --purpose spam --notice v1
expect future_date 2 "consent dated in the future" -- "$H" privacy consent give C-100 --purpose marketing --notice v1 --at 2999-01-01
expect bad_date 2 "--at '2024-02-30'" -- "$H" privacy consent give C-100 --purpose marketing --notice v1 --at 2024-02-30
expect no_notice 2 "version of the privacy notice" -- "$H" privacy consent give C-100 --purpose marketing
expect bad_basis 2 "unknown lawful basis" -- "$H" privacy consent give C-100 --purpose marketing --notice v1 --basis vibes
expect unknown_action 2 "unknown action 'grant'" -- "$H" privacy consent grant C-100 --purpose marketing
expect show_allowed 0 "personalisation +allowed" -- "$H" privacy consent show C-100
expect withdraw 0 "recorded: withdraw" -- "$H" privacy consent withdraw C-100 --purpose personalisation
expect show_denied 0 "personalisation +denied +consent withdrawn" -- "$H" privacy consent show C-100
expect export 0 "\"customer_id\": \"C-100\"" -- "$H" privacy export C-100
expect export_unknown 2 "nothing is held" -- "$H" privacy export C-999
# a privacy config saved with a UTF-8 BOM is read (its k_anonymity 7 is the report's required k); UTF-16 is
# refused with what to do
printf '\xEF\xBB\xBF{"hyperp_privacy": 1, "k_anonymity": 7}' > "$tmp/bom.json"
expect privacy_config_bom 0 "required k 7:" -- "$H" privacy report --config "$tmp/bom.json"
printf '\xFF\xFE{\0}\0' > "$tmp/u16.json"
expect privacy_config_utf16 2 "^hyperp: $tmp/u16.json: file is UTF-16; save it as UTF-8\$" -- "$H" privacy report --config "$tmp/u16.json"
expect audit_ok 0 "audit chain intact" -- "$H" audit verify
expect audit_export 0 "wrote the audit log" -- "$H" audit export --out "$tmp/audit.jsonl"
expect audit_file_ok 0 "audit chain intact" -- "$H" audit verify --file "$tmp/audit.jsonl"
ps=$("$H" privacy export C-100 | grep -o '"pseudonym": "ps_[0-9a-f]*"' | grep -o 'ps_[0-9a-f]*')
expect erase 0 "erased C-100: customers 1" -- "$H" privacy erase C-100
leak=0
for f in "$HYPERP_DB" "$HYPERP_DB-wal" "$tmp/audit.jsonl"; do
    [ -f "$f" ] && grep -qa -e "C-100" -e "$ps" "$f" && leak=1
done
if [ -n "$ps" ] && [ "$leak" -eq 0 ]; then ok erase_no_trace; else fail "erase_no_trace (ps=$ps)"; fi
expect audit_ok_after_erase 0 "with erased subjects" -- "$H" audit verify
expect audit_file_ok_after_erase 0 "audit chain intact" -- "$H" audit verify --file "$tmp/audit.jsonl"
sed '3s/"recorded/"Recorded/' "$tmp/audit.jsonl" > "$tmp/flip.jsonl"
expect audit_flip 1 "audit chain BROKEN: entry [0-9]+ " -- "$H" audit verify --file "$tmp/flip.jsonl"
sed '3d' "$tmp/audit.jsonl" > "$tmp/del.jsonl"
expect audit_deleted 1 "BROKEN" -- "$H" audit verify --file "$tmp/del.jsonl"
awk 'NR==2{held=$0; next} NR==3{print; print held; next} {print}' "$tmp/audit.jsonl" > "$tmp/swap.jsonl"
expect audit_swapped 1 "BROKEN" -- "$H" audit verify --file "$tmp/swap.jsonl"
# a key given twice: jansson keeps the last value (the hashed one), other readers the first
sed '3s/"outcome":/"outcome":"denied: forged","outcome":/' "$tmp/audit.jsonl" > "$tmp/dup.jsonl"
expect audit_duplicate_key 1 "audit chain BROKEN: .*/dup.jsonl:3: a key appears twice in the entry" -- "$H" audit verify --file "$tmp/dup.jsonl"
# purge: a queued erasure is counted by the dry run and carried out by the purge (the counts,
# not the heading, which purge always prints)
printf '{"hyperp_privacy":1,"erase_on_withdrawal":"queue"}' > "$tmp/queue.json"
"$H" privacy consent give C-300 --purpose analytics --notice v1 --source web > /dev/null 2>&1
"$H" privacy consent withdraw C-300 --purpose analytics --config "$tmp/queue.json" > /dev/null 2>&1
expect purge_dry 0 "erasure requests 1$" -- "$H" privacy purge --dry-run
expect purge_dry_keeps 0 '"customer_id": "C-300"' -- "$H" privacy export C-300
expect purge 0 "erasure requests 1$" -- "$H" privacy purge
expect purge_erased 2 "nothing is held" -- "$H" privacy export C-300
expect purge_again 0 "erasure requests 0$" -- "$H" privacy purge
printf 'note,text\n1,"card 4111 1111 1111 1111 and DE89 3704 0044 0532 0130 00"\n2,"call (212) 555-0147, order 778812345"\n' > "$tmp/notes.csv"
expect scan 0 "3 PII findings" -- "$H" privacy scan "$tmp/notes.csv" --mask "$tmp/masked.csv"
if grep -q '\*\*\*\* \*\*\*\* \*\*\*\* 1111' "$tmp/masked.csv" && ! grep -q 4111 "$tmp/masked.csv"; then ok scan_masked; else fail scan_masked; fi
expect scan_missing 2 "cannot open" -- "$H" privacy scan "$tmp/nope.txt"
expect report 0 "audit chain: intact" -- "$H" privacy report
expect report_json 0 '"pending_erasures": 0' -- "$H" privacy report --json
# PII: a card and an SSN ahead of 300 e-mails on one line are still masked
{ printf 'card 4111 1111 1111 1111 SSN 123-45-6789'; for i in $(seq 0 299); do printf ' u%d@ex.com' "$i"; done; echo; } > "$tmp/cap.txt"
expect scan_many 0 '"card": 1, .*"email": 300, .*"ssn": 1' -- "$H" privacy scan "$tmp/cap.txt" --mask "$tmp/cap.masked"
if ! grep -q -e '4111 1111' -e '123-45-6789' -e '@ex.com' "$tmp/cap.masked"; then ok scan_many_masked; else fail scan_many_masked; fi
printf 'card 4111 1111 1111 1111 05/27\nRef 12 4111 1111 1111 1111\nacct 0012345630 4111111111111111\n' > "$tmp/near.txt"
expect scan_card_near_numbers 0 '"card": 3' -- "$H" privacy scan "$tmp/near.txt" --mask "$tmp/near.masked"
# files holding personal data are created owner-only
"$H" privacy export C-200 --out "$tmp/c200.json" > /dev/null 2>&1
"$H" audit export --out "$tmp/audit2.jsonl" > /dev/null 2>&1
modes=$(stat -c %a "$tmp/c200.json" "$tmp/masked.csv" "$tmp/cap.masked" "$tmp/audit2.jsonl" | sort -u | tr '\n' ' ')
if [ "$modes" = "600 " ]; then ok private_file_modes; else fail "private_file_modes ($modes)"; fi
# --at 0 and 1970-01-01 are dates, not "now"
expect at_epoch 2 "before 2000-01-01" -- "$H" privacy consent give C-200 --purpose marketing --notice v1 --at 1970-01-01
expect at_zero 2 "" -- "$H" privacy consent give C-200 --purpose marketing --notice v1 --at 0
expect source_token 2 "source: character 3" -- "$H" privacy consent give C-200 --purpose marketing --notice v1 --source "rm John"
HYPERP_PSEUDONYM_KEY_FILE= HYPERP_PSEUDONYM_KEY=0000000000000000000000000000000000000000000000000000000000000000 \
    expect zero_key 2 "all zeros" -- "$H" privacy consent give C-200 --purpose marketing --notice v1
# an objection is lifted only by the customer's own consent
expect object 0 "recorded: object" -- "$H" privacy consent object C-200 --purpose marketing --source call_centre
expect object_import 2 "only the customer's own consent lifts it" -- "$H" privacy consent give C-200 --purpose marketing --notice v1 --source import
expect object_li 2 "not basis legitimate_interest" -- "$H" privacy consent give C-200 --purpose marketing --notice v1 --basis legitimate_interest --source web
expect object_still 0 "marketing +denied +objection" -- "$H" privacy consent show C-200
expect object_own 0 "recorded: give" -- "$H" privacy consent give C-200 --purpose marketing --notice v2 --source web
# operational failures exit 1, not 2: an export file that cannot be rewritten, an unwritable --out
expect export_unwritable 1 "cannot write" -- "$H" privacy export C-200 --out "$tmp/no/such/dir/x.json"
rm -f "$tmp/audit2.jsonl"; mkdir "$tmp/audit2.jsonl"
expect erase_blocked 1 "run erase or purge again" -- "$H" privacy erase C-200
expect erase_blocked_gone 2 "nothing is held" -- "$H" privacy export C-200
expect report_pending 0 '"pending_erasures": 1' -- "$H" privacy report --json
rmdir "$tmp/audit2.jsonl"
expect erase_resumed 0 "finished the interrupted erasure of C-200" -- "$H" privacy erase C-200
expect erase_done 2 "nothing is held" -- "$H" privacy erase C-200
expect audit_ok_end 0 "audit chain intact" -- "$H" audit verify
printf '{"hyperp_privacy":1,"retention_days":{"logz":3}}' > "$tmp/bad.json"
expect bad_config 2 "retention_days.logz: unknown category" -- "$H" privacy report --config "$tmp/bad.json"
cli_summary test_privacy_cli.sh

#!/usr/bin/env bash
# Output files with the test build ($HYPERP): PII masked in rejects and error messages, every
# file holding customer data owner-only, outputs registered in the store and cleaned by erase
# (and the ones it cannot reach reported), and no output path that is the store, its WAL or
# an input of the command. Ends with "test_outputs_cli.sh: N passed, M failed".
set -u
. "$(dirname "$0")/cli_lib.sh"
export HYPERP_DB="$tmp/state/hyperp.db"
unset HYPERP_PRIVACY_CONFIG
printf '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n' > "$tmp/key"
export HYPERP_PSEUDONYM_KEY_FILE="$tmp/key"
umask 022 # what a user typically has: hyperp must not depend on a stricter one

# check NAME COMMAND...: ok when the command succeeds
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
mode_of() { stat -c %a "$1" 2>/dev/null; }
lacks() { ! grep -qa -e "$2" "$1"; } # lacks FILE PATTERN
count() { grep -ca -- "$2" "$1" 2>/dev/null; } # count FILE PATTERN: matching lines

# ------------------------------------------------------------------ defect 9: PII in rejects and messages
cat > "$tmp/cfg.json" <<EOF
{"hyperp_dataset":1,"customers":{"file":"$tmp/faulty.csv","columns":{"customer_id":"id",
 "industry":"categorical","employees":"band","founded":"numeric"}}}
EOF
printf 'customer_id,industry,employees,founded\nA-1,Retail,10-50,1999\nV-9,Retail,4111 1111 1111 1111,2001\nB-2,bob@example.com,123-45-6789,2001\nV-9,Retail,10-50,5500 0000 0000 0004\nC-3,Retail,10-50,x\n' > "$tmp/faulty.csv"
out=$("$H" ingest --config "$tmp/cfg.json" --rejects "$tmp/out/rejects.csv" --quiet 2>&1)
rc=$?
check ingest_rejects_exit [ "$rc" -eq 0 ]
check stderr_masks_band_value grep -q "faulty.csv:3: column 'employees': '\[CARD\]' is not a band" <<<"$out"
check stderr_masks_number_value grep -q "faulty.csv:5: column 'founded': '\[CARD\]' is not a number" <<<"$out"
check stderr_masks_ssn grep -q "'\[SSN\]' is not a band" <<<"$out"
check stderr_no_raw_pii eval "! grep -q -e '4111 1111' -e '5500 0000' -e '123-45-6789' -e 'bob@example.com' <<<\"\$out\""
check rejects_no_raw_pii lacks "$tmp/out/rejects.csv" '4111 1111\|5500 0000 0000\|123-45-6789\|bob@example.com'
check rejects_keep_last4 grep -q '\*\*\*\* \*\*\*\* \*\*\*\* 1111' "$tmp/out/rejects.csv"
check rejects_every_row [ "$(count "$tmp/out/rejects.csv" 'faulty.csv')" -eq 4 ]
check rejects_mode_600 [ "$(mode_of "$tmp/out/rejects.csv")" = 600 ]
check store_mode_600 [ "$(mode_of "$HYPERP_DB")" = 600 ]
chmod 644 "$HYPERP_DB"
"$H" privacy report > /dev/null 2>&1
check store_mode_tightened [ "$(mode_of "$HYPERP_DB")" = 600 ]
expect at_masked 2 "'\[CARD\]' is not a timestamp" -- "$H" privacy consent give A-1 --purpose marketing --notice v1 --at "4111 1111 1111 1111"
check at_no_raw_pii eval "! \"\$H\" privacy consent give A-1 --purpose marketing --notice v1 --at '4111 1111 1111 1111' 2>&1 | grep -q 4111"

# ------------------------------------------------------------------ defect 9: erase reaches the registered outputs
"$H" synth --customers 300 --seed 7 --out "$tmp/syn" > /dev/null
"$H" train --data "$tmp/syn" --out "$tmp/model" --epochs 1 --quiet --no-consent-check > /dev/null 2>&1
V=ORG_US_000007
for id in "$V" ORG_US_000008 V-9; do
    "$H" privacy consent give "$id" --purpose personalisation --notice v1 --source web > /dev/null
done
expect recommend_out 0 "" -- "$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --out "$tmp/out/recs.jsonl" --top-k 2
check recs_mode_600 [ "$(mode_of "$tmp/out/recs.jsonl")" = 600 ]
check recs_hold_victim [ "$(count "$tmp/out/recs.jsonl" "\"customer_id\":\"$V\"")" -eq 1 ]
"$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --out "$tmp/out/recs_moved.jsonl" --top-k 2 2> /dev/null
mv "$tmp/out/recs_moved.jsonl" "$tmp/elsewhere.jsonl"
expect export_out 0 "" -- "$H" privacy export "$V" --out "$tmp/out/export_victim.json"
"$H" privacy export ORG_US_000008 --out "$tmp/out/export_other.json" > /dev/null
check export_mode_600 [ "$(mode_of "$tmp/out/export_victim.json")" = 600 ]
printf 'note about %s: call back\nnote about ORG_US_000070\nsee %s.\n' "$V" "$V" > "$tmp/notes.txt"
expect scan_mask 0 "" -- "$H" privacy scan "$tmp/notes.txt" --mask "$tmp/out/notes.masked"
# the victim's rejected rows come from another ingest: registered in the same store
expect ingest_registered 0 "" -- "$H" ingest --config "$tmp/cfg.json" --rejects "$tmp/out/rejects.csv" --quiet
expect erase_victim 0 "output files rewritten 2, removed 1" -- "$H" privacy erase "$V"
check recs_lost_victim [ "$(count "$tmp/out/recs.jsonl" "$V")" -eq 0 ]
check recs_kept_others [ "$(wc -l < "$tmp/out/recs.jsonl")" -eq 299 ]
check recs_still_600 [ "$(mode_of "$tmp/out/recs.jsonl")" = 600 ]
check export_deleted [ ! -e "$tmp/out/export_victim.json" ]
check other_export_kept [ -s "$tmp/out/export_other.json" ]
check masked_lost_victim [ "$(count "$tmp/out/notes.masked" "$V")" -eq 0 ]
check masked_kept_other [ "$(count "$tmp/out/notes.masked" ORG_US_000070)" -eq 1 ]
out=$("$H" privacy erase ORG_US_000008 2>&1)
check erase_reports_unreachable grep -q "not reached: 1 registered file: .*recs_moved.jsonl (missing: moved or deleted)" <<<"$out"
check erase_warns_unreachable grep -q "warning: 1 registered file could not be checked" <<<"$out"
check unreachable_in_audit eval "\"\$H\" audit export --out \"\$tmp/audit.jsonl\" > /dev/null && grep -q 'unreachable 1' \"\$tmp/audit.jsonl\""
expect erase_rejected_customer 0 "output files rewritten 1" -- "$H" privacy erase V-9
check rejects_lost_v9 [ "$(count "$tmp/out/rejects.csv" 'V-9')" -eq 0 ]
check rejects_kept_others [ "$(count "$tmp/out/rejects.csv" 'faulty.csv')" -eq 2 ]
# a customer the store never held but a registered recommendations file names
expect erase_only_in_outputs 0 "output files rewritten 1" -- "$H" privacy erase ORG_US_000100
check recs_lost_unheld [ "$(count "$tmp/out/recs.jsonl" ORG_US_000100)" -eq 0 ]
expect erase_nothing_anywhere 2 "nothing is held" -- "$H" privacy erase ORG_US_000100
leak=0
for f in $(find "$tmp/out" "$tmp/state" "$tmp/model" -type f); do
    grep -qa -e "$V" -e V-9 -e ORG_US_000100 "$f" && { leak=1; echo "  trace in $f" >&2; }
done
check no_trace_in_outputs [ "$leak" -eq 0 ]

# ------------------------------------------------------------------ defect 10: never onto the store or an input
entries() { "$H" audit verify 2>&1 | grep -o 'intact: [0-9]* entries'; }
"$H" privacy consent give ORG_US_000050 --purpose personalisation --notice v1 --source web > /dev/null
before=$(entries)
expect export_onto_store 2 "is the privacy store '$HYPERP_DB'" -- "$H" privacy export ORG_US_000008 --out "$HYPERP_DB"
expect export_onto_wal 2 "privacy store's WAL file '$HYPERP_DB-wal'" -- "$H" privacy export ORG_US_000008 --out "$HYPERP_DB-wal"
check wal_not_created [ ! -s "$HYPERP_DB-wal" ]
ln -s "$HYPERP_DB" "$tmp/link.db"
expect export_onto_symlink 2 "'$tmp/link.db' is the privacy store" -- "$H" privacy export ORG_US_000008 --out "$tmp/link.db"
ln "$HYPERP_DB" "$tmp/hard.db"
expect export_onto_hardlink 2 "'$tmp/hard.db' is the privacy store" -- "$H" privacy export ORG_US_000008 --out "$tmp/hard.db"
expect audit_export_onto_store 2 "is the privacy store" -- "$H" audit export --out "$HYPERP_DB"
expect anonymise_onto_store 2 "is the privacy store" -- "$H" privacy anonymise --out "$HYPERP_DB"
expect scan_mask_onto_store 2 "is the privacy store" -- "$H" privacy scan "$tmp/notes.txt" --mask "$HYPERP_DB"
check store_intact [ "$(entries)" = "$before" ]
expect store_still_answers 0 "personalisation +allowed" -- "$H" privacy consent show ORG_US_000050
cp "$tmp/notes.txt" "$tmp/notes.copy"
expect scan_mask_onto_input 2 "'$tmp/notes.txt' is the same file as '$tmp/notes.txt', an input" -- "$H" privacy scan "$tmp/notes.txt" --mask "$tmp/notes.txt"
check scan_input_intact cmp -s "$tmp/notes.txt" "$tmp/notes.copy"
cp "$tmp/faulty.csv" "$tmp/faulty.copy"
expect rejects_onto_input 2 "--rejects: '$tmp/faulty.csv' is the same file as" -- "$H" ingest --config "$tmp/cfg.json" --rejects "$tmp/faulty.csv"
expect rejects_onto_config 2 "an input of this command" -- "$H" ingest --config "$tmp/cfg.json" --rejects "$tmp/cfg.json"
expect rejects_onto_store 2 "is the privacy store" -- "$H" ingest --config "$tmp/cfg.json" --rejects "$HYPERP_DB"
check ingest_input_intact cmp -s "$tmp/faulty.csv" "$tmp/faulty.copy"
cp "$tmp/model/model.json" "$tmp/model.json.copy"
expect recommend_onto_model 2 "is the model file '$tmp/model/(v-[^']*/)?model.json'" -- "$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --out "$tmp/model/model.json"
expect recommend_onto_customers 2 "an input of this command" -- "$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --out "$tmp/syn/customers.csv"
expect recommend_onto_store 2 "is the privacy store" -- "$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --out "$HYPERP_DB"
check model_intact cmp -s "$tmp/model/model.json" "$tmp/model.json.copy"
cp "$tmp/syn/customers.csv" "$tmp/customers.copy"
mkdir -p "$tmp/m2" && ln "$tmp/syn/customers.csv" "$tmp/m2/model.json"
expect train_onto_input 2 "is the same file as '$tmp/syn/customers.csv'" -- "$H" train --data "$tmp/syn" --out "$tmp/m2" --epochs 1 --quiet --no-consent-check
mkdir -p "$tmp/res" && ln "$tmp/syn/truth_affinity.csv" "$tmp/res/metrics.csv"
expect evaluate_onto_oracle 2 "an input of this command" -- "$H" evaluate --model "$tmp/model" --data "$tmp/syn" --out "$tmp/res" --no-consent-check
check train_evaluate_inputs_intact cmp -s "$tmp/syn/customers.csv" "$tmp/customers.copy"
HYPERP_DB="$tmp/syn2/customers.csv" expect synth_onto_store 2 "is the privacy store" -- "$H" synth --customers 100 --out "$tmp/syn2"
expect export_elsewhere_ok 0 "" -- "$H" privacy export ORG_US_000050 --out "$tmp/out/fine.json"

# the data summary shows frequent values masked (a card as a category value stays hidden)
printf 'customer_id,industry,employees,revenue,financial_needs,preferences\nA,4111111111111111,10-50,1M-5M,Loans,Cards\n' > "$tmp/cardcat.csv"
"$H" ingest --customers "$tmp/cardcat.csv" --rejects "$tmp/cardcat.rej" > "$tmp/cardcat.txt" 2>&1
"$H" ingest --customers "$tmp/cardcat.csv" --rejects "$tmp/cardcat.rej" --json >> "$tmp/cardcat.txt" 2>&1
masked_summary() { ! grep -q 4111111111111111 "$tmp/cardcat.txt" && grep -q 'top: \[CARD\] (1)' "$tmp/cardcat.txt"; }
check summary_masks_values masked_summary
# an empty file is not a store: it must not verify as an intact, empty log
: > "$tmp/empty.db"
expect empty_store_refused 2 "not a store \(an empty file\)" -- "$H" audit verify --db "$tmp/empty.db"
check empty_store_untouched [ ! -s "$tmp/empty.db" ]

# ------------------------------------------------------------------ a failed output leaves no partial file
# every write is checked: a full device fails the command, naming it, and is never replaced
recs_args=(--model "$tmp/model" --customers "$tmp/syn/customers.csv" --top-k 2)
expect recommend_dev_full 1 "^hyperp: /dev/full: write failed: No space left on device" -- "$H" recommend "${recs_args[@]}" --out /dev/full
expect audit_export_dev_full 1 "^hyperp: /dev/full: write failed" -- "$H" audit export --out /dev/full
expect scan_mask_dev_full 1 "^hyperp: /dev/full: write failed: No space left on device" -- "$H" privacy scan "$tmp/notes.txt" --mask /dev/full
expect export_dev_full 1 "^hyperp: /dev/full: writing the export failed" -- "$H" privacy export ORG_US_000050 --out /dev/full
check dev_full_still_device [ -c /dev/full ]
# a write that fails midway (file size limit: EFBIG; no store, which the limit would stop first):
# no partial file, an earlier one kept as it was
printf 'earlier\n' > "$tmp/out/keep.jsonl"
out=$(trap '' XFSZ; ulimit -f 8; "$H" recommend "${recs_args[@]}" --no-consent-check --out "$tmp/out/part.jsonl" 2>&1; echo "rc=$?")
check recommend_midway_fails grep -q "^hyperp: $tmp/out/part.jsonl: write failed: File too large" <<<"$out"
check recommend_midway_exit grep -qx "rc=1" <<<"$out"
out=$(trap '' XFSZ; ulimit -f 8; "$H" recommend "${recs_args[@]}" --no-consent-check --out "$tmp/out/keep.jsonl" 2>&1; echo "rc=$?")
check recommend_midway_exit_again grep -qx "rc=1" <<<"$out"
check recommend_midway_kept_earlier [ "$(cat "$tmp/out/keep.jsonl")" = earlier ]
# an error after the file was written: the masked text is not left unregistered
echo "not a store" > "$tmp/junk.db"
expect scan_mask_store_fails 2 "^hyperp: removed $tmp/out/unreg.masked again: $tmp/junk.db: .*not a database" -- "$H" privacy scan "$tmp/notes.txt" --mask "$tmp/out/unreg.masked" --db "$tmp/junk.db"
# an altered audit row stops the export midway
sqlite3 "$HYPERP_DB" ".backup '$tmp/altered.db'"
sqlite3 "$tmp/altered.db" "UPDATE audit SET outcome = CAST(X'C328' AS TEXT) WHERE seq = (SELECT max(seq) FROM audit)"
expect audit_export_altered 2 "audit entry [0-9]+ holds bytes that are not UTF-8 text" -- "$H" audit export --db "$tmp/altered.db" --out "$tmp/out/altered.audit"
partial=$(ls "$tmp/out" | grep -e '^part\.jsonl' -e '^keep\.jsonl\.' -e '^unreg\.masked' -e '^altered\.audit')
check no_partial_files [ -z "$partial" ]
cli_summary test_outputs_cli.sh

#!/usr/bin/env bash
# CLI end to end with the test build ($HYPERP): exit codes, messages, synth -> ingest.
# Ends with "test_cli.sh: N passed, M failed" like the C test binaries.
set -u
. "$(dirname "$0")/cli_lib.sh"

expect help 0 "synth" -- "$H" --help
expect unknown_command 2 "unknown command 'frobnicate'" -- "$H" frobnicate
expect synth_help 0 "--customers N" -- "$H" synth --help
expect ingest_help 0 "--rejects FILE" -- "$H" ingest --help
expect synth_too_few 2 "customers: 50 is outside" -- "$H" synth --customers 50 --out "$tmp/x"
expect synth_bad_number 2 "not a non-negative integer" -- "$H" synth --customers lots --out "$tmp/x"
expect synth_small 0 "wrote 300 customers" -- "$H" synth --customers 300 --seed 7 --out "$tmp/syn"
expect ingest_synth_zero_rejects 0 "rejected 0" -- "$H" ingest --data "$tmp/syn" --rejects "$tmp/rej.csv"
expect ingest_json_summary 0 '"rows": 300' -- "$H" ingest --data "$tmp/syn" --rejects "$tmp/rej.csv" --json

printf 'customer_id,industry,employees,revenue,financial_needs,preferences\nA,Retail,10-50,1M-5M,"Loans","Cards"\nB,Retail,ten,1M-5M,"Loans","Cards"\n' > "$tmp/faulty.csv"
expect ingest_reports_reject 0 "faulty.csv:3: column 'employees': 'ten' is not a band" -- \
    "$H" ingest --customers "$tmp/faulty.csv" --rejects "$tmp/rej2.csv" --quiet
if grep -q "faulty.csv\",3,employees\|faulty.csv,3,employees" "$tmp/rej2.csv" 2>/dev/null; then ok rejects_file_written; else fail rejects_file_written; fi
expect ingest_missing_file 2 "nope.csv" -- "$H" ingest --customers "$tmp/nope.csv" --rejects "$tmp/rej3.csv"
printf 'customer_id,industry\nA,Retail\n' > "$tmp/short.csv"
expect ingest_missing_column 2 "missing required column 'employees'" -- "$H" ingest --customers "$tmp/short.csv" --rejects "$tmp/rej4.csv"
printf '{"hyperp_dataset":1,"customers":{"file":"x.csv","columns":{"id":"idd"}}}' > "$tmp/bad.json"
expect ingest_bad_config 2 "customers.columns.id: unknown role 'idd'" -- "$H" ingest --config "$tmp/bad.json"
expect ingest_unexpected_arg 2 "unexpected argument" -- "$H" ingest stray

# train -> evaluate -> recommend on the small synthetic set
expect train_small 0 "best validation ndcg" -- "$H" train --data "$tmp/syn" --out "$tmp/model" --epochs 3 --quiet
expect evaluate_small 0 "model / popularity" -- "$H" evaluate --model "$tmp/model" --data "$tmp/syn" --out "$tmp/res"
if [ -s "$tmp/res/metrics.json" ] && [ -s "$tmp/res/metrics.csv" ] && [ -s "$tmp/res/summary.txt" ]; then ok results_written; else fail results_written; fi
expect recommend_jsonl 0 '"recommendations":\[\{"product_id":"P0' -- "$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --top-k 3
n=$("$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --top-k 2 2>/dev/null | wc -l)
if [ "$n" -eq 300 ]; then ok recommend_one_line_per_customer; else fail "recommend_one_line_per_customer ($n)"; fi
expect recommend_needs_customers 2 "--customers FILE is required" -- "$H" recommend --model "$tmp/model"
expect recommend_missing_model 2 "model.json" -- "$H" recommend --model "$tmp/none" --customers "$tmp/syn/customers.csv"
printf '{"format":"hyperp-recommender","format_version":7}' > "$tmp/model_v7.json"
mkdir -p "$tmp/v7" && cp "$tmp/model_v7.json" "$tmp/v7/model.json"
expect recommend_wrong_version 2 "format version 7" -- "$H" recommend --model "$tmp/v7" --customers "$tmp/syn/customers.csv"
printf 'customer_id,industry,employees,revenue,financial_needs,preferences\nNEW1,Space Mining,,,,\n' > "$tmp/new.csv"
expect recommend_unknown_category 0 '"customer_id":"NEW1"' -- "$H" recommend --model "$tmp/model" --customers "$tmp/new.csv"
{ cat "$tmp/syn/products.csv"; echo 'P999,Cyber Insurance Plus,insurance,12,low,100000,low,Ransomware and data breach cover.'; } > "$tmp/newprod.csv"
expect recommend_new_product 0 '"product_id":"P999"' -- "$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --products "$tmp/newprod.csv" --top-k 40
expect recommend_disk_full 1 "write failed" -- sh -c "\"$H\" recommend --model \"$tmp/model\" --customers \"$tmp/syn/customers.csv\" > /dev/full"
expect train_bad_epochs 2 "not a non-negative integer" -- "$H" train --data "$tmp/syn" --epochs many

# Ctrl-C during training stops after the current batch and leaves a usable model
sed 's/"epochs": 20/"epochs": 100000/; s/"batch": 256/"batch": 16/' examples/synthetic.json \
    | sed 's/"method": "customer"/"method": "customer"/' > "$tmp/syn/long.json"
sed -i 's/"train": {/"train": { "patience": 1000,/' "$tmp/syn/long.json"
"$H" train --config "$tmp/syn/long.json" --out "$tmp/interrupted" --quiet > "$tmp/int.out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/interrupted/model.json" ] && break; sleep 0.2; done
kill -INT "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "interrupted" "$tmp/int.out"; then ok train_interrupt_exit; else fail "train_interrupt_exit (rc $rc: $(cat "$tmp/int.out"))"; fi
expect recommend_after_interrupt 0 '"recommendations"' -- "$H" recommend --model "$tmp/interrupted" --customers "$tmp/new.csv"

# the consent gate: only consenting customers are used for training and personalised
export HYPERP_PSEUDONYM_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
for i in $(seq 1 30); do
    "$H" privacy consent give "$(printf "ORG_US_%06d" "$i")" --purpose personalisation --notice v1 --db "$tmp/consent.db" > /dev/null 2>&1
done
expect train_consent 0 "270 left out" -- "$H" train --data "$tmp/syn" --out "$tmp/cmodel" --epochs 2 --quiet --consent-db "$tmp/consent.db"
expect train_consent_report 0 "registered in" -- "$H" train --data "$tmp/syn" --out "$tmp/cmodel" --epochs 1 --quiet --consent-db "$tmp/consent.db"
"$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --consent-db "$tmp/consent.db" > "$tmp/crec.jsonl" 2>/dev/null
if grep -q '"customer_id":"ORG_US_000001","personalised":true' "$tmp/crec.jsonl" && \
   grep -q '"customer_id":"ORG_US_000031","personalised":false' "$tmp/crec.jsonl"; then ok recommend_consent; else fail recommend_consent; fi
"$H" privacy consent withdraw ORG_US_000001 --purpose personalisation --db "$tmp/consent.db" > /dev/null 2>&1
"$H" recommend --model "$tmp/model" --customers "$tmp/syn/customers.csv" --consent-db "$tmp/consent.db" > "$tmp/crec2.jsonl" 2>/dev/null
if grep -q '"customer_id":"ORG_US_000001","personalised":false' "$tmp/crec2.jsonl"; then ok withdrawal_stops_personalisation; else fail withdrawal_stops_personalisation; fi
expect erase_marks_retraining 0 "" -- "$H" privacy erase ORG_US_000002 --db "$tmp/consent.db"
expect report_retraining_due 0 "models due for retraining: 2$" -- "$H" privacy report --db "$tmp/consent.db"
HYPERP_DB="$tmp/consent.db" expect consent_from_env 0 "27[0-9] left out" -- "$H" train --data "$tmp/syn" --out "$tmp/cmodel" --epochs 1 --quiet
HYPERP_DB="$tmp/consent.db" expect consent_check_off 0 " 0 left out" -- "$H" train --data "$tmp/syn" --out "$tmp/cmodel" --epochs 1 --quiet --no-consent-check
unset HYPERP_PSEUDONYM_KEY
expect consent_needs_key 2 "HYPERP_PSEUDONYM_KEY" -- "$H" train --data "$tmp/syn" --out "$tmp/cmodel" --consent-db "$tmp/consent.db"

real=../shared/data/ewfx_aidhp_hackathon/org_profiles_recovered_from_team_pioneers_results.csv
if [ -r "$real" ]; then
    expect ingest_real_hackathon 0 "loaded 7 rows, rejected 0" -- "$H" ingest --customers "$real" --rejects "$tmp/rej5.csv"
else
    echo "skip: $real not found"
fi
cli_summary test_cli.sh

#!/usr/bin/env bash
# Error messages echo the user's own arguments (file paths, flag values) as given, even when
# they look like an IBAN, an e-mail address or a phone number, so the user can see which file
# or value failed; values read from files and customer ids stay masked. Ends with
# "test_messages_cli.sh: N passed, M failed".
set -u
. "$(dirname "$0")/cli_lib.sh"


iban_path="$tmp/exports/DE89370400440532013000.csv"
expect_line iban_like_path 2 "hyperp: $iban_path: cannot open: No such file or directory" -- \
    "$H" ingest --customers "$iban_path"
mail_path="$tmp/ops/anna@bank-ops.com.csv"
expect_line email_like_path_with_equals 2 "hyperp: $mail_path: cannot open: No such file or directory" -- \
    "$H" ingest --customers="$mail_path"
expect_line asset_like_config 2 "hyperp: $tmp/cfg/logo@2x.png: cannot open: No such file or directory" -- \
    "$H" ingest --config "$tmp/cfg/logo@2x.png"
expect_line scan_operand 2 "hyperp: $tmp/in/john.doe@example.com.txt: cannot open: No such file or directory" -- \
    "$H" privacy scan "$tmp/in/john.doe@example.com.txt"

# a config whose path looks like an e-mail address, holding one as a value: the path in clear,
# the value masked
"$H" synth --customers 100 --seed 3 --out "$tmp/syn" > /dev/null
mkdir -p "$tmp/ops"
sed 's/"region": { "role": "categorical", "optional": true }/"region": { "role": "john@example.com", "optional": true }/' \
    examples/synthetic.json > "$tmp/ops/anna@bank-ops.com.json"
grep -q 'john@example.com' "$tmp/ops/anna@bank-ops.com.json" || fail "config_made"
expect config_value_masked_path_clear 2 \
    "^hyperp: $tmp/ops/anna@bank-ops\.com\.json: customers\.columns\.region\.role: unknown role '\[EMAIL\]'" -- \
    "$H" ingest --config "$tmp/ops/anna@bank-ops.com.json" --data "$tmp/syn" --rejects "$tmp/r.csv"
out=$("$H" ingest --config "$tmp/ops/anna@bank-ops.com.json" --data "$tmp/syn" --rejects "$tmp/r.csv" 2>&1)
if grep -q 'john@example' <<<"$out"; then fail "config_value_not_shown: $out"; else ok "config_value_not_shown"; fi

# a flag value is shown as given; a customer id (a positional operand) stays masked
export HYPERP_DB="$tmp/state/hyperp.db"
unset HYPERP_PSEUDONYM_KEY HYPERP_PRIVACY_CONFIG
printf '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n' > "$tmp/key"
chmod 600 "$tmp/key"
export HYPERP_PSEUDONYM_KEY_FILE="$tmp/key"
expect at_flag_value_clear 2 "^hyperp: --at '\+44 20 7946 0958': " -- \
    "$H" privacy consent give C-1 --purpose marketing --notice v1 --at '+44 20 7946 0958'
"$H" privacy consent give C-1 --purpose marketing --notice v1 > /dev/null 2>&1 || fail "store_setup"
expect_line customer_id_masked 2 "hyperp: customer '[EMAIL]': nothing is held about this customer" -- \
    "$H" privacy export john@example.com

cli_summary test_messages_cli.sh

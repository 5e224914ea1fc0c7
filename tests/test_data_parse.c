/* Bands, numbers and timestamps: the value parsers every ingest goes through. */
#include "check.h"
#include "data/data.h"
#include "data/parse.h"

#include <math.h>

static void band_ok(const char *s, double lo, double hi)
{
    double a = -1, b = -1;
    hp_error err = { 0 };
    int rc = data_band_parse(s, strlen(s), &a, &b, &err);
    CHECKF(rc == HP_OK, "'%s': %s", s, err.msg);
    CHECKF(a == lo && (b == hi || (isinf(hi) && isinf(b))), "'%s' -> [%g, %g], expected [%g, %g]", s, a, b, lo, hi);
}

static void band_bad(const char *s, const char *why)
{
    double a, b;
    hp_error err = { 0 };
    int rc = data_band_parse(s, strlen(s), &a, &b, &err);
    CHECKF(rc == HP_ERR_FORMAT, "'%s' parsed as [%g, %g]", s, a, b);
    CHECKF(strstr(err.msg, why) != NULL, "'%s': message '%s' lacks '%s'", s, err.msg, why);
}

TEST(band_forms)
{
    band_ok("500-1000", 500, 1000);
    band_ok("50M-80M", 50e6, 80e6);
    band_ok("1.5B+", 1.5e9, INFINITY);
    band_ok("<10", 0, 10);
    band_ok("$20K - $50K", 20e3, 50e3);
    band_ok("  100M-150M ", 100e6, 150e6);
    band_ok("5000+", 5000, INFINITY);
    band_ok("1,000-2,500", 1000, 2500);
    band_ok("$1-5M", 1e6, 5e6);
    band_ok("\xe2\x82\xac" "2m\xe2\x80\x93" "3m", 2e6, 3e6);
    band_ok("over 1 million", 1e6, INFINITY);
    band_ok("up to 50", 0, 50);
    band_ok("250", 250, 250);
    band_ok("10 to 20", 10, 20);
    band_ok("2bn", 2e9, 2e9);
    band_ok("USD 3.5MM", 3.5e6, 3.5e6);
}

TEST(band_errors)
{
    band_bad("", "empty");
    band_bad("lots", "no number");
    band_bad("1000-500", "lower bound above upper");
    band_bad("50M-80X", "unexpected text");
    band_bad("50M-", "no upper bound");
    band_bad("1.2.3", "no number");
}

TEST(band_value)
{
    CHECK_NEAR(data_band_value(100, 400), 200, 1e-9);
    CHECK_NEAR(data_band_value(0, 10), 5, 1e-9);
    CHECK_NEAR(data_band_value(1000, INFINITY), 1500, 1e-9);
    CHECK_NEAR(data_band_value(7, 7), 7, 1e-9);
}

TEST(numbers)
{
    double v;
    CHECK(data_parse_number(" 35", 3, &v, NULL) == HP_OK && v == 35);
    CHECK(data_parse_number("-1.25", 5, &v, NULL) == HP_OK && v == -1.25);
    CHECK(data_parse_number("87218.1", 7, &v, NULL) == HP_OK && fabs(v - 87218.1) < 1e-9);
    CHECK(data_parse_number("1e3", 3, &v, NULL) == HP_OK && v == 1000);
    CHECK(data_parse_number("+7", 2, &v, NULL) == HP_OK && v == 7);
    hp_error err = { 0 };
    CHECK(data_parse_number("abc", 3, &v, &err) == HP_ERR_FORMAT);
    CHECK(strstr(err.msg, "'abc' is not a number") != NULL);
    CHECK(data_parse_number("inf", 3, &v, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_number("nan", 3, &v, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_number("0x10", 4, &v, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_number("", 0, &v, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_number("1.2.3", 5, &v, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_number("12abc", 5, &v, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_number("1e39", 4, &v, &err) == HP_ERR_FORMAT && strstr(err.msg, "out of range"));
    CHECK(data_parse_number("-3e38", 5, &v, NULL) == HP_OK);
}

TEST(timestamps)
{
    int64_t t;
    CHECK(data_parse_timestamp("1970-01-01", 10, &t, NULL) == HP_OK && t == 0);
    CHECK(data_parse_timestamp("2015-01-28", 10, &t, NULL) == HP_OK && t == 1422403200);
    const char *iso = "2015-01-28T01:02:03Z";
    CHECK(data_parse_timestamp(iso, strlen(iso), &t, NULL) == HP_OK && t == 1422403200 + 3723);
    const char *off = "2015-01-28 01:02:03+01:00";
    CHECK(data_parse_timestamp(off, strlen(off), &t, NULL) == HP_OK && t == 1422403200 + 3723 - 3600);
    CHECK(data_parse_timestamp("1422403200", 10, &t, NULL) == HP_OK && t == 1422403200);
    CHECK(data_parse_timestamp("2024-02-29", 10, &t, NULL) == HP_OK);
    hp_error err = { 0 };
    CHECK(data_parse_timestamp("2023-02-29", 10, &t, &err) == HP_ERR_FORMAT);
    CHECK(strstr(err.msg, "not a valid calendar date") != NULL);
    CHECK(data_parse_timestamp("2023-13-01", 10, &t, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_timestamp("yesterday", 9, &t, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_timestamp("2015-01-28T25:00", 16, &t, NULL) == HP_ERR_FORMAT);
    char buf[32];
    data_format_timestamp(1422403200 + 3723, buf, sizeof buf);
    CHECK_STR(buf, "2015-01-28T01:02:03Z");
    data_format_timestamp(-86400, buf, sizeof buf);
    CHECK_STR(buf, "1969-12-31T00:00:00Z");
}

/* Dates without a declared format: only forms that cannot be misread. */
TEST(timestamps_unambiguous_forms)
{
    int64_t t;
    hp_error err = { 0 };
    const int64_t jan1 = 788918400; /* 1995-01-01 */
    CHECK(data_parse_timestamp("01-Jan-1995", 11, &t, NULL) == HP_OK && t == jan1);
    CHECK(data_parse_timestamp("1-JAN-1995", 10, &t, NULL) == HP_OK && t == jan1);
    CHECK(data_parse_timestamp("1 January 1995", 14, &t, NULL) == HP_OK && t == jan1);
    CHECK(data_parse_timestamp("01-Jan-1995 13:45", 17, &t, NULL) == HP_OK && t == jan1 + 13 * 3600 + 45 * 60);
    CHECK(data_parse_timestamp("788918400", 9, &t, NULL) == HP_OK && t == jan1);
    CHECK(data_parse_timestamp("31-Feb-1995", 11, &t, &err) == HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "'31-Feb-1995' is not a valid calendar date"), "%s", err.msg);
    CHECK(data_parse_timestamp("01/31/1995", 10, &t, &err) == HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "'01/31/1995' is not a timestamp without a format: a date with slashes"), "%s", err.msg);
    /* a compact date or milliseconds would have been a wrong second count */
    CHECK(data_parse_timestamp("19950101", 8, &t, &err) == HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "epoch seconds have 9 or 10 digits"), "%s", err.msg);
    CHECK(data_parse_timestamp("1422403200000", 13, &t, &err) == HP_ERR_FORMAT);
    CHECK(data_parse_timestamp("01-Jam-1995", 11, &t, &err) == HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "is not a timestamp (expected"), "%s", err.msg);
}

TEST(timestamps_declared_formats)
{
    int64_t t;
    hp_error err = { 0 };
    const int64_t jan31 = 788918400 + 30 * 86400;
    CHECK(data_parse_timestamp_as("01/31/1995", 10, "%m/%d/%Y", &t, NULL) == HP_OK && t == jan31);
    CHECK(data_parse_timestamp_as("31/01/1995", 10, "%d/%m/%Y", &t, NULL) == HP_OK && t == jan31);
    CHECK(data_parse_timestamp_as("1/31/1995", 9, "%m/%d/%Y", &t, NULL) == HP_OK && t == jan31);
    CHECK(data_parse_timestamp_as("31-jan-1995", 11, "%d-%b-%Y", &t, NULL) == HP_OK && t == jan31);
    CHECK(data_parse_timestamp_as("19950131", 8, "%Y%m%d", &t, NULL) == HP_OK && t == jan31);
    CHECK(data_parse_timestamp_as("1995-01-31", 10, "%Y-%m-%d", &t, NULL) == HP_OK && t == jan31);
    CHECK(data_parse_timestamp_as("01/31/1995 08:30:05", 19, "%m/%d/%Y %H:%M:%S", &t, NULL) == HP_OK &&
          t == jan31 + 8 * 3600 + 30 * 60 + 5);
    CHECK(data_parse_timestamp_as("12", 2, "epoch", &t, NULL) == HP_OK && t == 12);
    /* only len bytes count (the fuzzer's buffers end without a NUL: strtoll read past them) */
    CHECK(data_parse_timestamp("17000000009999", 10, &t, NULL) == HP_OK && t == 1700000000);
    CHECK(data_parse_timestamp_as("123456", 2, "epoch", &t, NULL) == HP_OK && t == 12);
    CHECK(data_parse_timestamp_as("-86400", 6, "epoch", &t, NULL) == HP_OK && t == -86400);
    CHECK(data_parse_timestamp_as("01/31/1995", 10, "%d/%m/%Y", &t, &err) == HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "'01/31/1995' is not a valid calendar date"), "%s", err.msg);
    CHECK(data_parse_timestamp_as("1995-01-31", 10, "%d/%m/%Y", &t, &err) == HP_ERR_FORMAT);
    CHECKF(strstr(err.msg, "is not a timestamp of the column's format '%d/%m/%Y'"), "%s", err.msg);
    CHECK(data_parse_timestamp_as("01/31/1995x", 11, "%m/%d/%Y", &t, NULL) == HP_ERR_FORMAT);
    CHECK(data_parse_timestamp_as("1.5", 3, "epoch", &t, NULL) == HP_ERR_FORMAT);
    char why[200];
    CHECK(data_timestamp_format_check("%d/%m/%Y", why, sizeof why) == HP_OK);
    CHECK(data_timestamp_format_check("epoch", why, sizeof why) == HP_OK);
    CHECK(data_timestamp_format_check("%d/%m/%y", why, sizeof why) == HP_ERR_INVAL);
    CHECKF(strstr(why, "unknown directive '%y'"), "%s", why);
    CHECK(data_timestamp_format_check("%d %b %m %Y", why, sizeof why) == HP_ERR_INVAL);
    CHECK(data_timestamp_format_check("%d/%m/%Y%", why, sizeof why) == HP_ERR_INVAL);
}

static int no_check(void *ctx, const char *config, const char *section, struct json_t *value, const char *base_dir,
                    hp_error *err)
{
    (void)ctx, (void)config, (void)section, (void)value, (void)base_dir, (void)err;
    return HP_OK;
}

/* Run first in this process (no config parsed yet): a registration before any parse still finds
 * the modules' sections registered, first, so none of their names can be taken from them. */
TEST(first_registration_comes_after_the_modules)
{
    hp_error err = { 0 };
    CHECK_EQ_INT(data_config_section_register("train", no_check, NULL, &err), HP_ERR_INVAL);
    CHECKF(strstr(err.msg, "'train' is registered already"), "%s", err.msg);
    CHECKF(data_config_section_register("zz_first", no_check, NULL, &err) == HP_OK, "%s", err.msg);
    char known[512];
    data_config_known_keys(known, sizeof known);
    CHECK_STR(known, "hyperp_dataset, name, customers, products, interactions, transactions, model, train, split, "
                     "evaluate, zz_first");
}

int main(void)
{
    RUN(first_registration_comes_after_the_modules);
    RUN(band_forms);
    RUN(band_errors);
    RUN(band_value);
    RUN(numbers);
    RUN(timestamps);
    RUN(timestamps_unambiguous_forms);
    RUN(timestamps_declared_formats);
    return check_summary("test_data_parse");
}

/* Tests of src/io: CSV, JSON, JSONL readers, encodings, whole-file checks.
 * Most cases read a buffer and compare a log of everything the reader returned:
 *   "cols:a|b\n"            the column names
 *   "L3:x|y\n"              a record starting on line 3 (a NULL field prints as ~)
 *   "L4!1:reason\n"         HP_ERR_FORMAT at line 4, bad_field 1
 *   "OPEN <status> <msg>"   io_source_open_buffer failed */
#include "io/io.h"
#include "io/io_out.h"
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char logbuf[16384];

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    size_t n = strlen(logbuf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(logbuf + n, sizeof logbuf - n, fmt, ap);
    va_end(ap);
}

static void log_source(io_source *s)
{
    io_record r;
    hp_error e = { 0 };
    logf_("cols:");
    for (int i = 0; i < io_source_ncolumns(s); i++)
        logf_("%s%s", i ? "|" : "", io_source_column(s, i));
    logf_("\n");
    for (;;) {
        int rc = io_source_next(s, &r, &e);
        if (rc == 0) break;
        if (rc == HP_ERR_FORMAT) {
            logf_("L%ld!%d:%s\n", r.line, r.bad_field, e.msg);
            continue;
        }
        if (rc < 0) {
            logf_("FATAL %d %s\n", rc, e.msg);
            break;
        }
        logf_("L%ld:", r.line);
        for (int i = 0; i < r.nfields; i++) {
            logf_("%s%s", i ? "|" : "", r.field[i] ? r.field[i] : "~");
            if (r.field[i] && strlen(r.field[i]) != r.len[i]) logf_("<len %zu>", r.len[i]);
        }
        logf_("\n");
    }
}

/* Reads len bytes of text named name with opts (NULL: defaults) and returns the log. */
static const char *read_buf(const char *name, const char *text, size_t len,
                            const io_source_opts *o)
{
    io_source *s = NULL;
    hp_error e = { 0 };
    logbuf[0] = 0;
    int rc = io_source_open_buffer(&s, name, text, len, o, &e);
    if (rc) {
        logf_("OPEN %d %s", rc, e.msg);
        CHECK(s == NULL);
        return logbuf;
    }
    log_source(s);
    io_source_free(s);
    return logbuf;
}

#define READ(name, lit, o) read_buf(name, lit, sizeof(lit) - 1, o)

static char tmpdir[64];

/* Writes len bytes to a file in the test directory; returns its path (static buffer). */
static const char *write_tmp(const char *name, const char *data, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return path;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
    return path;
}

static const char *read_path(const char *path, const io_source_opts *o)
{
    io_source *s = NULL;
    hp_error e = { 0 };
    logbuf[0] = 0;
    int rc = io_source_open(&s, path, o, &e);
    if (rc) {
        logf_("OPEN %d %s", rc, e.msg);
        return logbuf;
    }
    log_source(s);
    io_source_free(s);
    return logbuf;
}

/* ------------------------------------------------------------------ CSV: good input */

TEST(csv_basic_quotes_crlf_bom)
{
    CHECK_STR(READ("a.csv", "\xEF\xBB\xBF\" age \",job,\"na\"\"me\"\r\n"
                            "30,\"x,y\",\"a\"\"b\"\r\n"
                            "31,,\"\"\r\n",
                   NULL),
              "cols:age|job|na\"me\nL2:30|x,y|a\"b\nL3:31||\n");
}

TEST(csv_delimiters)
{
    CHECK_STR(READ("s.csv", "a;b;c\n1;2,5;x\n", NULL), "cols:a|b|c\nL2:1|2,5|x\n");
    CHECK_STR(READ("t.tsv", "a\tb\n1 2\t\n", NULL), "cols:a|b\nL2:1 2|\n");
    CHECK_STR(READ("p.csv", "a|b\n1|\"|\"\n", NULL), "cols:a|b\nL2:1||\n");
    io_source_opts o = { .delimiter = ':' };
    CHECK_STR(READ("c.csv", "a:b\n1:2\n", &o), "cols:a|b\nL2:1|2\n");
    /* Santander-style: quoted header, semicolons */
    CHECK_STR(READ("san.csv", "\"ID_code\";\"target\"\n\"train_0\";0\n", NULL),
              "cols:ID_code|target\nL2:train_0|0\n");
    io_source *s;
    hp_error e;
    CHECK_EQ_INT(io_source_open_buffer(&s, "t.tsv", "a\tb\n", 4, NULL, &e), HP_OK);
    CHECK_EQ_INT(io_source_delimiter(s), '\t');
    CHECK_EQ_INT(io_source_format(s), IO_FMT_CSV);
    io_source_free(s);
}

TEST(csv_multiline_quoted_field)
{
    CHECK_STR(READ("m.csv", "id,text,n\n1,\"line one\nline two\r\nline three\",7\n2,b,8\n", NULL),
              "cols:id|text|n\nL2:1|line one\nline two\r\nline three|7\nL5:2|b|8\n");
}

TEST(csv_blank_lines_and_padding)
{
    CHECK_STR(READ("b.csv", "\n\na,b\n\n1,2\n  \r\n\t\n3, \"q\" \n\n", NULL),
              "cols:a|b\nL5:1|2\nL8:3|q\n");
}

TEST(csv_last_line_without_newline)
{
    CHECK_STR(READ("e.csv", "a,b,c\n1,2,3\n4,5,6", NULL), "cols:a|b|c\nL2:1|2|3\nL3:4|5|6\n");
    CHECK_STR(READ("e.csv", "a,b,c\n1,2,3\n4,5", NULL),
              "cols:a|b|c\nL2:1|2|3\nL3!-1:expected 3 fields, found 2\n");
    CHECK_STR(READ("e.csv", "a,b\n1,\"x\"", NULL), "cols:a|b\nL2:1|x\n");
    CHECK_STR(READ("e.csv", "a,b\r\n1,2\r", NULL), "cols:a|b\nL2:1|2\n");
}

TEST(csv_header_only_and_no_header)
{
    CHECK_STR(READ("h.csv", "a,b\n", NULL), "cols:a|b\n");
    CHECK_STR(READ("h.csv", "a,b", NULL), "cols:a|b\n");
    io_source_opts o = { .no_header = 1 };
    CHECK_STR(READ("n.csv", "1,2,3\n4,5,6\n", &o), "cols:1|2|3\nL1:1|2|3\nL2:4|5|6\n");
}

TEST(csv_cr_only_line_endings)
{
    CHECK_STR(READ("mac.csv", "a,b\r1,2\r3,4\r", NULL), "cols:a|b\nL2:1|2\nL3:3|4\n");
}

/* ------------------------------------------------------------------ CSV: bad records */

TEST(csv_field_count)
{
    CHECK_STR(READ("f.csv", "a,b,c,d,e,f\n1,2,3,4\n1,2,3,4,5,6\n1,2,3,4,5,6,7,8\n", NULL),
              "cols:a|b|c|d|e|f\n"
              "L2!-1:expected 6 fields, found 4\n"
              "L3:1|2|3|4|5|6\n"
              "L4!-1:expected 6 fields, found 8\n");
}

TEST(csv_stray_quote_and_text_after_quote)
{
    CHECK_STR(READ("q.csv", "a,b,c\n1,ab\"c,3\n2,\"abc\"x,3\n3,ok,3\n4,5,6,\"x\"y\n", NULL),
              "cols:a|b|c\n"
              "L2!1:quote character inside an unquoted field (quote the whole field and "
              "double the quote)\n"
              "L3!1:text after a closing quote (a quote inside a quoted field must be "
              "doubled)\n"
              "L4:3|ok|3\n"
              "L5!-1:field 4: text after a closing quote (a quote inside a quoted field must "
              "be doubled)\n");
}

TEST(csv_unterminated_quote_resumes_next_line)
{
    /* The quote on line 2 swallows line 3 up to its first quote, then breaks on line 3. */
    CHECK_STR(READ("u.csv", "id,name,score\n1,\"Alice,90\n2,\"Bob\",85\n3,Carol,70\n", NULL),
              "cols:id|name|score\n"
              "L2!1:unterminated quote: reading the quoted field across lines breaks the "
              "record on line 3 (text after a quote)\n"
              "L3:2|Bob|85\nL4:3|Carol|70\n");
    /* Spanning lines parses, but with the wrong field count. */
    CHECK_STR(READ("u.csv", "id,name,score\n1,\"Alice,90\n2,Bob\",85,9\n3,Carol,70\n", NULL),
              "cols:id|name|score\n"
              "L2!1:unterminated quote: read across 2 lines the record has 4 fields, "
              "expected 3\n"
              "L3!1:quote character inside an unquoted field (quote the whole field and "
              "double the quote)\n"
              "L4:3|Carol|70\n");
    /* End of file inside the quotes. */
    CHECK_STR(READ("u.csv", "id,name,score\n1,\"Alice,90\n2,Bob,85\n3,Carol,70\n", NULL),
              "cols:id|name|score\n"
              "L2!1:unterminated quote: end of file inside the quoted field that starts on "
              "this line\n"
              "L3:2|Bob|85\nL4:3|Carol|70\n");
    CHECK_STR(READ("u.csv", "a,b\n1,2\n3,\"x", NULL),
              "cols:a|b\nL2:1|2\nL3!1:unterminated quote: end of file inside quotes\n");
}

TEST(csv_invalid_utf8)
{
    CHECK_STR(READ("u8.csv", "a,b\n1,ab\xE9t\xE9\n2,\"q\"\"\xC3\x28\"\n3,caf\xC3\xA9\n", NULL),
              "cols:a|b\n"
              "L2!1:invalid UTF-8 at byte offset 2 (byte 0xE9); if the file is Latin-1, "
              "declare its encoding\n"
              "L3!1:invalid UTF-8 at byte offset 2 (byte 0xC3); if the file is Latin-1, "
              "declare its encoding\n"
              "L4:3|caf\xC3\xA9\n");
    CHECK_STR(READ("u8.csv", "a\xFF,b\n", NULL),
              "OPEN -7 u8.csv: header (line 1), field 1: invalid UTF-8 (byte 0xFF); if the "
              "file is Latin-1, declare its encoding");
}

TEST(csv_embedded_nul)
{
    CHECK_STR(READ("z.csv", "id,name,city\n1,a\0b,Paris\n2,\"c\0\",Rome\n3,ok,Oslo\n", NULL),
              "cols:id|name|city\n"
              "L2!1:NUL byte at byte offset 1\n"
              "L3!1:NUL byte at byte offset 1\n"
              "L4:3|ok|Oslo\n");
}

TEST(csv_header_errors)
{
    CHECK_STR(READ("h.csv", "a,b\"c\n1,2\n", NULL),
              "OPEN -4 h.csv: header (line 1), field 2: quote character inside an unquoted "
              "field (quote the whole field and double the quote)");
}

/* ------------------------------------------------------------------ whole-file problems */

TEST(whole_file_errors)
{
    CHECK_STR(READ("e.csv", "", NULL), "OPEN -10 e.csv: file is empty");
    CHECK_STR(READ("e.csv", "\xEF\xBB\xBF\n \r\n", NULL),
              "OPEN -10 e.csv: file is empty (it holds only blank lines)");
    CHECK_STR(READ("w.csv", "\xFF\xFE" "a\0,\0b\0\n\0", NULL),
              "OPEN -7 w.csv: file looks like UTF-16 (it starts with a UTF-16 byte order "
              "mark); convert it to UTF-8 or declare its encoding");
    CHECK_STR(READ("w.csv", "a\0,\0b\0\n\0" "1\0,\0" "2\0\n\0", NULL),
              "OPEN -7 w.csv: file looks like UTF-16 (every other byte is NUL); convert it "
              "to UTF-8 or declare its encoding");
    CHECK_STR(READ("g.csv", "\x1F\x8B\x08\0\0\0", NULL),
              "OPEN -7 g.csv: file is gzip-compressed; decompress it first");
    CHECK_STR(READ("b.csv", "\x01\x02\x03\x04\x05\x06\x07\x08\x0E\x0F", NULL),
              "OPEN -7 b.csv: file looks binary (many control bytes), not CSV or JSON text");
    io_source_opts bad = { .delimiter = '"' };
    CHECK_STR(READ("d.csv", "a\n", &bad),
              "OPEN -1 d.csv: the CSV delimiter cannot be a quote or a line break");
    bad.delimiter = '\xE9';
    CHECK_STR(READ("d.csv", "a\n", &bad),
              "OPEN -1 d.csv: the CSV delimiter must be an ASCII character");
}

TEST(files_on_disk)
{
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing.csv", tmpdir);
    char want[256];
    snprintf(want, sizeof want, "OPEN -3 %s: cannot open: No such file or directory", missing);
    CHECK_STR(read_path(missing, NULL), want);
    snprintf(want, sizeof want, "OPEN -3 %s: is a directory, not a file", tmpdir);
    CHECK_STR(read_path(tmpdir, NULL), want);

    const char *p = write_tmp("empty.csv", "", 0);
    snprintf(want, sizeof want, "OPEN -10 %s: file is empty", p);
    CHECK_STR(read_path(p, NULL), want);

    /* Latin-1: 'é' is one byte 0xE9 on disk and two bytes C3 A9 after opening. */
    p = write_tmp("latin1.csv", "name;city\nRen\xE9;Orl\xE9" "ans\n", 22);
    io_source_opts o = { .encoding = IO_ENC_LATIN1 };
    CHECK_STR(read_path(p, &o), "cols:name|city\nL2:Ren\xC3\xA9|Orl\xC3\xA9" "ans\n");
    /* The same file read as UTF-8: a per-record error that suggests Latin-1. */
    CHECK_STR(read_path(p, NULL), "cols:name|city\nL2!0:invalid UTF-8 at byte offset 3 "
              "(byte 0xE9); if the file is Latin-1, declare its encoding\n");

    /* Mapped files are never written: a CR-only file is fixed in a copy. */
    p = write_tmp("mac.csv", "a,b\r1,\"x\"\"\"\r", 12);
    CHECK_STR(read_path(p, NULL), "cols:a|b\nL2:1|x\"\n");

    /* A file of exactly one page is read, not mapped (the readers need a NUL after it). */
    static char page[4096];
    memcpy(page, "a,b\n", 4);
    for (int i = 0; i < 1023; i++) memcpy(page + 4 + 4 * i, "1,2\n", 4);
    p = write_tmp("page.csv", page, sizeof page);
    io_source *s;
    hp_error e;
    CHECK_EQ_INT(io_source_open(&s, p, NULL, &e), HP_OK);
    io_record r;
    long n = 0, last = 0;
    while (io_source_next(s, &r, &e) == 1) n++, last = r.line;
    CHECK_EQ_INT(n, 1023);
    CHECK_EQ_INT(last, 1024);
    io_source_free(s);

    char *buf;
    size_t len;
    p = write_tmp("latin1.csv", "name;city\nRen\xE9;Orl\xE9" "ans\n", 22);
    CHECK_EQ_INT(io_read_file(p, &buf, &len, &e), HP_OK);
    CHECK_EQ_INT(len, 22);
    CHECK(buf[len] == 0);
    hp_free(buf);
    CHECK_EQ_INT(io_read_file(missing, &buf, &len, &e), HP_ERR_IO);
    CHECK(buf == NULL);
    /* devices without end are refused from their first bytes, not read until memory runs out */
    CHECK_STR(read_path("/dev/zero", NULL), "OPEN -4 /dev/zero: reads as NUL bytes (a device such as /dev/zero?), not CSV or JSON text");
    for (int i = 0; i < 20; i++) /* random bytes: refused every time, never read on until memory runs out */
        CHECK(strncmp(read_path("/dev/urandom", NULL), "OPEN -4 /dev/urandom: file looks binary", 39) == 0);
    CHECK_EQ_INT(io_read_file("/dev/zero", &buf, &len, &e), HP_ERR_FORMAT);
    CHECK(buf == NULL && strstr(e.msg, "/dev/zero: reads as NUL bytes"));
    CHECK_STR(read_path("/dev/null", NULL), "OPEN -10 /dev/null: file is empty");
}

TEST(format_by_extension)
{
    /* A CSV-named file that starts with '[' is still CSV. */
    CHECK_STR(READ("x.csv", "[a],b\n1,2\n", NULL), "cols:[a]|b\nL2:1|2\n");
    CHECK_STR(READ("x.JSON", "[{\"a\":1}]", NULL), "cols:a\nL1:1\n");
    CHECK_STR(READ("x.ndjson", "{\"a\":1}\n", NULL), "cols:a\nL1:1\n");
    io_source_opts o = { .format = IO_FMT_JSONL };
    CHECK_STR(READ("x.txt", "{\"a\":1}\n", &o), "cols:a\nL1:1\n");
}

/* ------------------------------------------------------------------ JSON */

static const char *const hack_keys[] = { "customer_id", "industry", "employees", "revenue",
                                         "preferences", "financial_needs" };

TEST(json_hackathon_record)
{
    io_source_opts o = { .keys = hack_keys, .nkeys = 6 };
    const char *rec = "{\"customer_id\":\"ORG_US_001\",\"industry\":\"IT Services\","
                      "\"employees\":\"500-1000\",\"revenue\":\"50M-80M\",\"preferences\":"
                      "\"Cloud Services, Employee Benefits\",\"financial_needs\":\"Business "
                      "Loans, Payment Processing\"}";
    const char *want = "cols:customer_id|industry|employees|revenue|preferences|financial_needs\n"
                       "L1:ORG_US_001|IT Services|500-1000|50M-80M|Cloud Services, Employee "
                       "Benefits|Business Loans, Payment Processing\n";
    char arr[1024];
    snprintf(arr, sizeof arr, "[%s]", rec);
    CHECK_STR(read_buf("p.json", arr, strlen(arr), &o), want);
    CHECK_STR(read_buf("p.jsonl", rec, strlen(rec), &o), want);
    /* Without keys, the columns are the first object's keys in file order. */
    CHECK_STR(read_buf("p.json", arr, strlen(arr), NULL), want);
}

TEST(json_values)
{
    static const char *const keys[] = { "s", "i", "r", "b", "n", "list", "missing" };
    io_source_opts o = { .keys = keys, .nkeys = 7 };
    CHECK_STR(READ("v.json", "[{\"s\":\"x\\\"y\",\"i\":-42,\"r\":0.1,\"b\":true,\"n\":null,"
                   "\"list\":[\"Cloud Services\",\"R&D\",3,1.5,false,null]},\n"
                   " {\"r\":1e300,\"b\":false,\"list\":[]}]", &o),
              "cols:s|i|r|b|n|list|missing\n"
              "L1:x\"y|-42|0.1|true|~|Cloud Services,R&D,3,1.5,false,|~\n"
              "L2:~|~|1e+300|false|~||~\n");
    o.list_separator = ';';
    CHECK_STR(READ("v.json", "[{\"list\":[\"a,b\",\"c\"]}]", &o),
              "cols:s|i|r|b|n|list|missing\nL1:~|~|~|~|~|a,b;c|~\n");
}

TEST(json_bad_elements_are_per_record)
{
    static const char *const keys[] = { "id", "tags" };
    io_source_opts o = { .keys = keys, .nkeys = 2 };
    CHECK_STR(READ("j.json", "[\n"
                             "  {\"id\": 1, \"tags\": [\"a\", \"b\"]},\n"
                             "  {\"id\": 2, \"tags\": },\n"
                             "  {\"id\": 3, \"tags\": {\"x\": 1}},\n"
                             "  [1, 2],\n"
                             "  {\"id\": 5, \"tags\": [\"a,b\"]},\n"
                             "  {\"id\": 6, \"tags\": [[1]]},\n"
                             "  {\"id\": 7,\n"
                             "   \"tags\": \"multi-line element\"},\n"
                             "  {\"id\": 8, \"id\": 9},\n"
                             "  ,\n"
                             "  {\"id\": \"last\"}\n"
                             "]\n", &o),
              "cols:id|tags\n"
              "L2:1|a,b\n"
              "L3!-1:invalid JSON at column 21: unexpected token near '}'\n"
              "L4!1:key 'tags' holds a nested object; only strings, numbers, booleans, null "
              "and lists of them can be read\n"
              "L5!-1:array element is not a JSON object (found an array)\n"
              "L6!1:key 'tags': list item 1 contains the list separator ','\n"
              "L7!1:key 'tags': list item 1 is an array; only lists of strings, numbers and "
              "booleans can be read\n"
              "L8:7|multi-line element\n"
              "L10!-1:invalid JSON at column 16: duplicate object key near '\"id\"'\n"
              "L11!-1:empty array element (two commas in a row, or a comma before ']')\n"
              "L12:last|~\n");
}

TEST(json_outer_structure_errors)
{
    CHECK_STR(READ("o.json", "{\"a\": 1}\n{\"a\": 2}\n", NULL),
              "OPEN -4 o.json:1:1: expected a JSON array of objects, found an object; for one "
              "object per line, use the JSONL format (.jsonl)");
    CHECK_STR(READ("o.json", "\n  \"text\"", NULL),
              "OPEN -4 o.json:2:3: expected a JSON array of objects ('['), found '\"'");
    CHECK_STR(READ("o.json", "[{\"a\": 1},\n {\"a\": \"x]\"", NULL),
              "OPEN -4 o.json:2:12: unterminated JSON array: end of file inside the element "
              "that starts at 2:2");
    CHECK_STR(READ("o.json", "[{\"a\": 1},\n", NULL),
              "OPEN -4 o.json:2:1: unterminated JSON array: end of file before the closing ']' "
              "of the array opened at 1:1");
    CHECK_STR(READ("o.json", "[{\"a\": 1}]\n]", NULL),
              "OPEN -4 o.json:2:1: unexpected text after the closing ']'");
    CHECK_STR(READ("o.json", " [ ] ", NULL), "cols:\n");
}

/* ------------------------------------------------------------------ JSONL */

TEST(jsonl_records)
{
    static const char *const keys[] = { "a", "b" };
    io_source_opts o = { .keys = keys, .nkeys = 2 };
    CHECK_STR(READ("l.jsonl", "{\"a\":1,\"b\":\"x\"}\r\n\n  \n{\"a\":2,\n\"oops\"\n[1]\n"
                              "{\"b\":[\"p\",\"q\"]}", &o),
              "cols:a|b\n"
              "L1:1|x\n"
              "L4!-1:invalid JSON at column 7: string or '}' expected near end of file\n"
              "L5!-1:line is not a JSON object (found a string)\n"
              "L6!-1:line is not a JSON object (found an array)\n"
              "L7:~|p,q\n");
    CHECK_STR(READ("l.jsonl", "[\n  {\"a\": 1}\n]\n", &o),
              "OPEN -4 l.jsonl:1: this looks like a JSON array spread over lines, not JSONL "
              "(one object per line); read it as JSON");
    CHECK_STR(READ("l.jsonl", "\n\n", &o), "OPEN -10 l.jsonl: file is empty (it holds only "
              "blank lines)");
}

/* ------------------------------------------------------------------ encodings */

TEST(utf8_validation)
{
    CHECK_EQ_INT(io_utf8_invalid_at("plain ascii text, long enough for the fast path", 47), -1);
    CHECK_EQ_INT(io_utf8_invalid_at("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14), -1);
    CHECK_EQ_INT(io_utf8_invalid_at("\xF4\x8F\xBF\xBF", 4), -1);     /* U+10FFFF */
    CHECK_EQ_INT(io_utf8_invalid_at("\xED\x9F\xBF", 3), -1);         /* U+D7FF */
    CHECK_EQ_INT(io_utf8_invalid_at("ab\xC0\x80", 4), 2);            /* overlong NUL */
    CHECK_EQ_INT(io_utf8_invalid_at("\xC1\xBF", 2), 0);              /* overlong */
    CHECK_EQ_INT(io_utf8_invalid_at("\xE0\x80\xAF", 3), 0);          /* overlong '/' */
    CHECK_EQ_INT(io_utf8_invalid_at("\xF0\x8F\xBF\xBF", 4), 0);      /* overlong */
    CHECK_EQ_INT(io_utf8_invalid_at("x\xED\xA0\x80", 4), 1);         /* surrogate D800 */
    CHECK_EQ_INT(io_utf8_invalid_at("\xF4\x90\x80\x80", 4), 0);      /* > U+10FFFF */
    CHECK_EQ_INT(io_utf8_invalid_at("\xF5\x80\x80\x80", 4), 0);
    CHECK_EQ_INT(io_utf8_invalid_at("abc\x80", 4), 3);               /* lone continuation */
    CHECK_EQ_INT(io_utf8_invalid_at("abc\xE2\x82", 5), 3);           /* truncated */
    CHECK_EQ_INT(io_utf8_invalid_at("\xE2\x82\x41", 3), 0);
    CHECK_EQ_INT(io_utf8_invalid_at("0123456789012345678901234567890123456789\xFF", 41), 40);
    CHECK_EQ_INT(io_utf8_invalid_at("", 0), -1);
}

TEST(latin1_conversion)
{
    char *out;
    size_t n;
    CHECK_EQ_INT(io_latin1_to_utf8("caf\xE9 \xFF\x80" "A", 8, &out, &n), HP_OK);
    CHECK_EQ_INT(n, 11);
    CHECK_STR(out, "caf\xC3\xA9 \xC3\xBF\xC2\x80" "A");
    CHECK_EQ_INT(io_utf8_invalid_at(out, n), -1);
    hp_free(out);
    CHECK_EQ_INT(io_latin1_to_utf8("", 0, &out, &n), HP_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_STR(out, "");
    hp_free(out);
    /* A UTF-8 BOM wins over a declared Latin-1. */
    io_source_opts o = { .encoding = IO_ENC_LATIN1 };
    CHECK_STR(READ("bom.csv", "\xEF\xBB\xBFn\nRen\xC3\xA9\n", &o), "cols:n\nL2:Ren\xC3\xA9\n");
}

/* ------------------------------------------------------------------ API edges */

TEST(api_edges)
{
    io_source_free(NULL);
    CHECK_EQ_INT(io_source_ncolumns(NULL), 0);
    CHECK(io_source_column(NULL, 0) == NULL);
    io_source *s;
    hp_error e;
    CHECK_EQ_INT(io_source_open_buffer(&s, "a.csv", "x,y\n1,2\n", 8, NULL, &e), HP_OK);
    CHECK_STR(io_source_name(s), "a.csv");
    CHECK(io_source_column(s, 2) == NULL);
    CHECK(io_source_column(s, -1) == NULL);
    io_record r;
    CHECK_EQ_INT(io_source_next(s, &r, &e), 1);
    CHECK_EQ_INT(r.len[1], 1);
    CHECK_EQ_INT(io_source_next(s, &r, &e), 0);
    CHECK_EQ_INT(io_source_next(s, &r, &e), 0); /* stays at the end */
    io_source_free(s);
    CHECK_EQ_INT(io_source_open(&s, NULL, NULL, &e), HP_ERR_INVAL);
    CHECK(s == NULL);
}

/* Fails the n-th allocation; every path must fail cleanly (ASan reports any leak). */
static long alloc_left;
static void *fail_malloc(size_t n) { return alloc_left-- > 0 ? malloc(n) : NULL; }
static void *fail_realloc(void *p, size_t n) { return alloc_left-- > 0 ? realloc(p, n) : NULL; }

static int read_all_with_failures(const char *name, const char *text, const io_source_opts *o)
{
    io_source *s;
    hp_error e;
    int rc = io_source_open_buffer(&s, name, text, strlen(text), o, &e);
    if (rc) return rc;
    io_record r;
    while ((rc = io_source_next(s, &r, &e)) != 0)
        if (rc < 0 && rc != HP_ERR_FORMAT) break;
    io_source_free(s);
    return rc;
}

TEST(allocation_failures)
{
    static const char *const keys[] = { "a", "b" };
    io_source_opts jo = { .keys = keys, .nkeys = 2 };
    struct { const char *name, *text; const io_source_opts *o; } cases[] = {
        { "a.csv", "x,y\n1,\"2\"\"\"\n3\n", NULL },
        { "a.json", "[{\"a\":[1,\"x\",2.5],\"b\":true},{\"a\":1}]", &jo },
        { "a.json", "[{\"a\":[1,\"x\",2.5],\"b\":true},{\"a\":1}]", NULL },
        { "a.jsonl", "{\"a\":[1,\"x\"],\"b\":null}\n{\"a\":2}\n", NULL },
    };
    hp_allocator fa = { fail_malloc, fail_realloc, free };
    for (size_t c = 0; c < HP_ARRAY_LEN(cases); c++) {
        int rc = HP_ERR_NOMEM;
        long n;
        for (n = 0; n < 200 && rc == HP_ERR_NOMEM; n++) {
            alloc_left = n;
            hp_set_allocator(&fa);
            rc = read_all_with_failures(cases[c].name, cases[c].text, cases[c].o);
            hp_set_allocator(NULL);
        }
        CHECKF(rc == 0, "case %zu: rc %d after %ld allocations", c, rc, n);
    }
}

/* A rewrite renames a temporary file over its target only when that is a regular file (or
 * absent): renaming over a registered "/dev/full" once replaced the device node itself. */
TEST(rewrites_rename_only_over_regular_files)
{
    char dir[] = "/tmp/hyperp_io_out_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(io_out_renamable(check_path(dir, "absent")), 1);
    FILE *f = fopen(check_path(dir, "plain"), "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    CHECK_EQ_INT(io_out_renamable(check_path(dir, "plain")), 1);
    CHECK_EQ_INT(symlink("plain", check_path(dir, "link")), 0);
    CHECK_EQ_INT(io_out_renamable(check_path(dir, "link")), 0);
    CHECK_EQ_INT(io_out_renamable(dir), 0);
    CHECK_EQ_INT(io_out_renamable("/dev/null"), 0);
    unlink(check_path(dir, "link"));
    unlink(check_path(dir, "plain"));
    rmdir(dir);
}

/* The file's content (at most 255 bytes), "" when it cannot be read. */
static const char *content_of(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return buf;
}

static int entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

/* A new output is written whole or not at all: nothing at the path after a failure (an earlier
 * file kept as it was), no temporary file left; a device is written directly, its write error
 * reported naming it, and never replaced. */
TEST(new_outputs_whole_or_not_at_all)
{
    char dir[] = "/tmp/hyperp_io_new_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    io_out_file o;
    hp_error err = { 0 };
    const char *out = check_path(dir, "out.jsonl");
    CHECK_EQ_INT(io_out_start(&o, out, NULL, NULL, 0, &err), HP_OK);
    if (o.f) fputs("partial\n", o.f);
    CHECK_EQ_INT(access(out, F_OK), -1); /* nothing at the path while it is written */
    CHECK_EQ_INT(io_out_finish(&o, HP_ERR_NOMEM, &err), HP_ERR_NOMEM);
    CHECK_EQ_INT(entries_in(dir), 0);
    CHECK_EQ_INT(io_out_is_file(&o), 0);
    FILE *f = fopen(out, "w");
    if (f) fputs("earlier\n", f), fclose(f);
    CHECK_EQ_INT(io_out_start(&o, out, NULL, NULL, 0, &err), HP_OK);
    if (o.f) fputs("partial\n", o.f);
    CHECK_EQ_INT(io_out_finish(&o, HP_ERR_WRITE, &err), HP_ERR_WRITE);
    CHECK_STR(content_of(out), "earlier\n");
    CHECK_EQ_INT(entries_in(dir), 1);
    CHECK_EQ_INT(io_out_start(&o, out, NULL, NULL, 0, &err), HP_OK);
    if (o.f) fputs("whole\n", o.f);
    CHECK_EQ_INT(io_out_finish(&o, HP_OK, &err), HP_OK);
    CHECK_STR(content_of(out), "whole\n");
    CHECK_EQ_INT(io_out_is_file(&o), 1);
    struct stat st;
    CHECK(stat(out, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* through a link: the target gets the content, the link stays a link */
    CHECK_EQ_INT(symlink("out.jsonl", check_path(dir, "link")), 0);
    CHECK_EQ_INT(io_out_start(&o, check_path(dir, "link"), NULL, NULL, 0, &err), HP_OK);
    if (o.f) fputs("via link\n", o.f);
    CHECK_EQ_INT(io_out_finish(&o, HP_OK, &err), HP_OK);
    CHECK(lstat(check_path(dir, "link"), &st) == 0 && S_ISLNK(st.st_mode));
    CHECK_STR(content_of(out), "via link\n");
    /* a full device */
    CHECK_EQ_INT(io_out_start(&o, "/dev/full", NULL, NULL, 0, &err), HP_OK);
    for (int i = 0; o.f && i < 1000; i++) fputs("a line of recommendations\n", o.f);
    CHECK_EQ_INT(io_out_finish(&o, HP_OK, &err), HP_ERR_WRITE);
    CHECKF(strcmp(err.msg, "/dev/full: write failed: No space left on device") == 0, "%s", err.msg);
    CHECK_EQ_INT(io_out_is_file(&o), 0);
    CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
    /* a folder that does not exist: the same words as before */
    CHECK_EQ_INT(io_out_start(&o, check_path(dir, "no/such/out"), NULL, NULL, 0, &err), HP_ERR_WRITE);
    CHECKF(strstr(err.msg, "no/such/out: cannot write: No such file or directory") != NULL, "%s", err.msg);
    unlink(check_path(dir, "link"));
    unlink(out);
    rmdir(dir);
}

/* A rewrite in place keeps the inode: every hard link has the new content. */
TEST(rewrite_in_place_keeps_every_name)
{
    char dir[] = "/tmp/hyperp_io_inplace_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    const char *a = check_path(dir, "a"), *b = check_path(dir, "b");
    FILE *f = fopen(a, "w");
    if (f) fputs("keep\ndrop C1\nkeep too\n", f), fclose(f);
    CHECK_EQ_INT(link(a, b), 0);
    struct stat before, after;
    CHECK(stat(a, &before) == 0);
    char tmp[600];
    hp_error err = { 0 };
    FILE *t = io_out_tmp(a, tmp, sizeof tmp, &err);
    CHECK(t != NULL);
    if (t) fputs("keep\nkeep too\n", t);
    int fd = open(a, O_RDWR);
    CHECK(fd >= 0);
    if (t && fd >= 0) CHECK_EQ_INT(io_out_commit_into(t, tmp, fd, a, &err), HP_OK);
    if (fd >= 0) close(fd);
    CHECK_STR(content_of(a), "keep\nkeep too\n");
    CHECK_STR(content_of(b), "keep\nkeep too\n");
    CHECK(stat(b, &after) == 0 && after.st_ino == before.st_ino && after.st_nlink == 2);
    CHECK_EQ_INT(access(tmp, F_OK), -1);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_io.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(csv_basic_quotes_crlf_bom);
    RUN(csv_delimiters);
    RUN(csv_multiline_quoted_field);
    RUN(csv_blank_lines_and_padding);
    RUN(csv_last_line_without_newline);
    RUN(csv_header_only_and_no_header);
    RUN(csv_cr_only_line_endings);
    RUN(csv_field_count);
    RUN(csv_stray_quote_and_text_after_quote);
    RUN(csv_unterminated_quote_resumes_next_line);
    RUN(csv_invalid_utf8);
    RUN(csv_embedded_nul);
    RUN(csv_header_errors);
    RUN(whole_file_errors);
    RUN(files_on_disk);
    RUN(format_by_extension);
    RUN(json_hackathon_record);
    RUN(json_values);
    RUN(json_bad_elements_are_per_record);
    RUN(json_outer_structure_errors);
    RUN(jsonl_records);
    RUN(utf8_validation);
    RUN(latin1_conversion);
    RUN(api_edges);
    RUN(allocation_failures);
    RUN(rewrites_rename_only_over_regular_files);
    RUN(new_outputs_whole_or_not_at_all);
    RUN(rewrite_in_place_keeps_every_name);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary("test_io");
}

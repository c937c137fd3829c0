/*
 * The monitor's input layers on their own: the JSON stream splitter that
 * cuts QMP input into messages, and the HMP line editor.
 */
#include "monitor/monitor-internal.h"

/* ---- json-stream ---- */

typedef struct Collected {
    GPtrArray *items;         /* "ok:<json>" or "error:<message>" */
} Collected;

static void on_emit(void *opaque, const char *json, size_t len)
{
    Collected *c = opaque;
    g_ptr_array_add(c->items, g_strdup_printf("ok:%.*s", (int)len, json));
}

static void on_error(void *opaque, const char *msg)
{
    Collected *c = opaque;
    g_ptr_array_add(c->items, g_strdup_printf("error:%s", msg));
}

/* Feed input in chunks of chunk bytes (0: all at once); returns the items
 * joined by '|'. */
static char *split(const char *input, size_t len, size_t chunk, size_t max)
{
    Collected c = { g_ptr_array_new_with_free_func(g_free) };
    JsonStream s;
    json_stream_init(&s, max, on_emit, on_error, &c);
    for (size_t off = 0; off < len;) {
        size_t n = chunk ? MIN(chunk, len - off) : len;
        json_stream_feed(&s, (const uint8_t *)input + off, n);
        off += n;
    }
    json_stream_destroy(&s);
    g_ptr_array_add(c.items, NULL);
    char *joined = g_strjoinv("|", (char **)c.items->pdata);
    g_ptr_array_free(c.items, true);
    return joined;
}

static const struct {
    const char *in;
    const char *out;
} split_cases[] = {
    { "{\"execute\":\"stop\"}", "ok:{\"execute\":\"stop\"}" },
    { " {\"a\":1} {\"b\":[1,{\"c\":\"}\"}]}\n", "ok:{\"a\":1}|ok:{\"b\":[1,{\"c\":\"}\"}]}" },
    { "{\n \"a\" :\n [ 1 , 2 ]\n}", "ok:{\n \"a\" :\n [ 1 , 2 ]\n}" },
    { "{\"s\":\"a\\\"}b\"}", "ok:{\"s\":\"a\\\"}b\"}" },
    { "42 \"x\" null\n[]", "ok:42|ok:\"x\"|ok:null|ok:[]" },
    /* A new message where the old one cannot go on. */
    { "{\"execute\":\"stop\"\n{\"x\":1}",
      "error:JSON parse error, unexpected '{'|ok:{\"x\":1}" },
    { "}{\"x\":1}", "error:JSON parse error, unexpected '}'|ok:{\"x\":1}" },
    /* After other errors, input is dropped up to a newline or '{'. */
    { "{\"a\" 1}\n{\"x\":1}", "error:JSON parse error, unexpected '1'|ok:{\"x\":1}" },
    { "{\"a\":1,}{\"x\":1}", "error:JSON parse error, unexpected '}'|ok:{\"x\":1}" },
    { "{\"a\":\"b\nc\"}\n{\"x\":1}",
      "error:JSON parse error, control character 0x0a in a string|ok:{\"x\":1}" },
    { "\x01\x02 garbage\n{}", "error:JSON parse error, unexpected byte 0x01|ok:{}" },
    { "{[]}", "error:JSON parse error, unexpected '['" },
    { "[1 2]", "error:JSON parse error, unexpected '2'" },
    { "{\"a\":1]", "error:JSON parse error, unexpected ']'" },
    /* Incomplete input stays pending. */
    { "{\"a\":", "" },
    { "123", "" },
};

static void test_split_table(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(split_cases); i++) {
        const char *in = split_cases[i].in;
        g_autofree char *whole = split(in, strlen(in), 0, 4096);
        g_assert_cmpstr(whole, ==, split_cases[i].out);
        /* Cut anywhere, the result is the same. */
        for (size_t chunk = 1; chunk < 8; chunk++) {
            g_autofree char *pieces = split(in, strlen(in), chunk, 4096);
            g_assert_cmpstr(pieces, ==, whole);
        }
    }
}

static void test_split_limits(void)
{
    /* Too long: one error, then input up to the newline is dropped. */
    GString *big = g_string_new("{\"x\":\"");
    for (int i = 0; i < 2000; i++) {
        g_string_append_c(big, i % 7 ? 'A' : '{');
    }
    g_string_append(big, "\"}\n{\"ok\":1}");
    g_autofree char *r = split(big->str, big->len, 7, 1000);
    g_assert_cmpstr(r, ==, "error:JSON message too long (over 1000 bytes)|"
                    "ok:{\"ok\":1}");
    g_string_free(big, true);

    /* Nesting deeper than the limit. */
    GString *deep = g_string_new(NULL);
    for (int i = 0; i < JSON_MAX_DEPTH + 10; i++) {
        g_string_append_c(deep, '[');
    }
    g_string_append(deep, "\n[1]");
    g_autofree char *d = split(deep->str, deep->len, 0, 1 << 20);
    g_assert_cmpstr(d, ==, "error:JSON parse error, nesting deeper than 1024|"
                    "ok:[1]");
    g_string_free(deep, true);
}

/* Random bytes never crash it, and a newline plus a message always gets
 * through afterwards. */
static void test_split_garbage(void)
{
    GRand *rnd = g_rand_new_with_seed(42);
    for (int round = 0; round < 200; round++) {
        size_t len = g_rand_int_range(rnd, 1, 2000);
        GString *in = g_string_new(NULL);
        for (size_t i = 0; i < len; i++) {
            /* Bias towards JSON's own characters. */
            static const char json_chars[] = "{}[]\":,\\ \n0123truefalsnul";
            g_string_append_c(in, g_rand_boolean(rnd) ?
                json_chars[g_rand_int_range(rnd, 0, sizeof(json_chars) - 1)] :
                (char)g_rand_int_range(rnd, 0, 256));
        }
        g_string_append(in, "\"\n}]\n{\"end\":true}");
        g_autofree char *r = split(in->str, in->len,
                                   g_rand_int_range(rnd, 0, 64), 512);
        g_assert_true(g_str_has_suffix(r, "ok:{\"end\":true}"));
        g_string_free(in, true);
    }
    g_rand_free(rnd);
}

/* ---- readline ---- */

typedef struct Term {
    GString *screen;          /* everything written */
    GPtrArray *lines;         /* executed lines */
} Term;

static void term_exec(void *opaque, const char *line)
{
    Term *t = opaque;
    g_ptr_array_add(t->lines, g_strdup(line));
}

static void term_write(void *opaque, const char *text)
{
    Term *t = opaque;
    g_string_append(t->screen, text);
}

static void type(ReadLine *rl, const char *keys)
{
    for (const char *k = keys; *k; k++) {
        readline_feed(rl, (uint8_t)*k);
    }
}

#define LEFT "\033[D"
#define RIGHT "\033[C"
#define UP "\033[A"
#define DOWN "\033[B"
#define HOME "\033[H"
#define END "\033[F"
#define DEL "\033[3~"

static void test_readline(void)
{
    Term t = { g_string_new(NULL), g_ptr_array_new_with_free_func(g_free) };
    ReadLine rl;
    readline_init(&rl, "(qemu) ", term_exec, term_write, &t);
    readline_show_prompt(&rl);
    g_assert_cmpstr(t.screen->str, ==, "(qemu) ");

    static const struct { const char *keys, *line; } cases[] = {
        { "info status\r", "info status" },
        { "stpo" LEFT LEFT "\x7f" "o" END "\x7f" "p\r\n", "sopp" },
        { "abc" HOME "x" END "y\n", "xabcy" },
        { "hello" HOME DEL RIGHT "\x04" "\r", "elo" },      /* Ctrl-D */
        { "one two three\x17\x17" "four\r", "one four" },  /* Ctrl-W */
        { "abcdef" LEFT LEFT LEFT "\x0b" "\r", "abc" },    /* Ctrl-K */
        { "junk\x15" "cont\r", "cont" },                   /* Ctrl-U */
        { UP UP "\r", "abc" },                             /* history */
        { UP UP UP DOWN "\r", "cont" },
        { UP "\x10" "\x0e" "\x0e" "x\r", "x" },            /* Ctrl-P/N */
        { "\r", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        guint before = t.lines->len;
        type(&rl, cases[i].keys);
        g_assert_cmpuint(t.lines->len, ==, before + 1);
        g_assert_cmpstr(g_ptr_array_index(t.lines, before), ==, cases[i].line);
    }
    /* History keeps each line once and skips empty ones. */
    g_assert_cmpint(rl.nr_history, ==, 10);
    g_assert_cmpstr(rl.history[rl.nr_history - 1], ==, "x");

    /* A line longer than the buffer is cut, not overrun. */
    for (int i = 0; i < READLINE_MAX + 100; i++) {
        readline_feed(&rl, 'a');
    }
    readline_feed(&rl, '\r');
    g_assert_cmpuint(strlen(g_ptr_array_index(t.lines, t.lines->len - 1)), ==,
                     READLINE_MAX);
    readline_free(&rl);
    g_string_free(t.screen, true);
    g_ptr_array_free(t.lines, true);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/monitor/json-stream/table", test_split_table);
    g_test_add_func("/monitor/json-stream/limits", test_split_limits);
    g_test_add_func("/monitor/json-stream/garbage", test_split_garbage);
    g_test_add_func("/monitor/readline", test_readline);
    return g_test_run();
}

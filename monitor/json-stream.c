/*
 * Cuts a QMP byte stream into JSON texts.  Values may span lines or come
 * several to a line, so this follows the JSON grammar at the level of
 * brackets, strings, separators and bare words (numbers, true, null), and
 * hands each complete top-level value to the parser.
 *
 * Following the grammar, not just counting brackets, lets a broken message
 * fail at its first wrong byte: after "{"execute": "stop"" a new "{" is an
 * error for the old message and the start of the next one, so a client that
 * sent half a command and then a whole one is answered twice instead of
 * waiting forever.  After any other error, input is dropped up to the next
 * newline or "{"; after an over-long or too deeply nested value, up to the
 * next newline.
 */
#include "monitor/monitor-internal.h"

enum {
    EXPECT_VALUE,
    EXPECT_VALUE_OR_CLOSE,     /* after [ */
    EXPECT_KEY,                /* after , in an object */
    EXPECT_KEY_OR_CLOSE,       /* after { */
    EXPECT_COLON,
    EXPECT_COMMA_OR_CLOSE,
};

enum { SKIP_NONE, SKIP_TO_LINE, SKIP_TO_LINE_OR_BRACE };

void json_stream_init(JsonStream *s, size_t max_size,
                      void (*emit)(void *, const char *, size_t),
                      void (*error)(void *, const char *), void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->buf = g_string_new(NULL);
    s->max_size = max_size;
    s->emit = emit;
    s->error = error;
    s->opaque = opaque;
}

void json_stream_reset(JsonStream *s)
{
    g_string_truncate(s->buf, 0);
    s->depth = 0;
    s->expect = EXPECT_VALUE;
    s->in_string = s->escape = s->string_is_key = s->in_word = false;
    s->skip = SKIP_NONE;
}

void json_stream_destroy(JsonStream *s)
{
    if (s->buf) {
        g_string_free(s->buf, true);
        s->buf = NULL;
    }
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Characters of numbers and of true/false/null (the parser checks them). */
static bool is_word(uint8_t c)
{
    return g_ascii_isalnum(c) || c == '+' || c == '-' || c == '.';
}

static bool expects_value(const JsonStream *s)
{
    return s->expect == EXPECT_VALUE || s->expect == EXPECT_VALUE_OR_CLOSE;
}

static void fail(JsonStream *s, int skip, const char *fmt, ...)
    PRINTF_FMT(3, 4);
static void fail(JsonStream *s, int skip, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    json_stream_reset(s);
    s->skip = skip;
    s->error(s->opaque, msg);
    g_free(msg);
}

static void unexpected(JsonStream *s, uint8_t c)
{
    if (c >= 0x20 && c < 0x7f) {
        fail(s, SKIP_TO_LINE_OR_BRACE, "JSON parse error, unexpected '%c'", c);
    } else {
        fail(s, SKIP_TO_LINE_OR_BRACE,
             "JSON parse error, unexpected byte 0x%02x", c);
    }
}

/* A value ended: the message is complete, or its container goes on. */
static void value_done(JsonStream *s)
{
    if (s->depth > 0) {
        s->expect = EXPECT_COMMA_OR_CLOSE;
        return;
    }
    /* Copy: emit may feed more input to this stream (never today, but
     * then the buffer would change under it). */
    char *text = g_strndup(s->buf->str, s->buf->len);
    size_t len = s->buf->len;
    json_stream_reset(s);
    s->emit(s->opaque, text, len);
    g_free(text);
}

static void push(JsonStream *s, char kind)
{
    if (s->depth == JSON_MAX_DEPTH) {
        fail(s, SKIP_TO_LINE, "JSON parse error, nesting deeper than %d",
             JSON_MAX_DEPTH);
        return;
    }
    s->stack[s->depth++] = kind;
    s->expect = kind == 'O' ? EXPECT_KEY_OR_CLOSE : EXPECT_VALUE_OR_CLOSE;
}

static bool pop(JsonStream *s, char kind)
{
    if (!s->depth || s->stack[s->depth - 1] != kind) {
        return false;
    }
    if (kind == 'O' && s->expect != EXPECT_KEY_OR_CLOSE &&
        s->expect != EXPECT_COMMA_OR_CLOSE) {
        return false;
    }
    if (kind == 'A' && s->expect != EXPECT_VALUE_OR_CLOSE &&
        s->expect != EXPECT_COMMA_OR_CLOSE) {
        return false;
    }
    s->depth--;
    return true;
}

/* Outside strings and words. */
static void structural(JsonStream *s, uint8_t c)
{
    if (is_space(c)) {
        if (s->depth) {
            g_string_append_c(s->buf, c);
        }
        return;
    }
    bool ok;
    switch (c) {
    case '{':
    case '[':
        if (!expects_value(s)) {
            unexpected(s, c);
            if (c == '{') {
                s->skip = SKIP_NONE;
                structural(s, c);    /* the start of the next message */
            }
            return;
        }
        g_string_append_c(s->buf, c);
        push(s, c == '{' ? 'O' : 'A');
        return;
    case '}':
    case ']':
        if (!pop(s, c == '}' ? 'O' : 'A')) {
            unexpected(s, c);
            return;
        }
        g_string_append_c(s->buf, c);
        value_done(s);
        return;
    case ':':
        ok = s->expect == EXPECT_COLON;
        s->expect = EXPECT_VALUE;
        break;
    case ',':
        ok = s->expect == EXPECT_COMMA_OR_CLOSE;
        s->expect = s->depth && s->stack[s->depth - 1] == 'O' ? EXPECT_KEY
                                                             : EXPECT_VALUE;
        break;
    case '"':
        ok = expects_value(s) || s->expect == EXPECT_KEY ||
             s->expect == EXPECT_KEY_OR_CLOSE;
        s->string_is_key = !expects_value(s);
        s->in_string = true;
        break;
    default:
        ok = is_word(c) && expects_value(s);
        s->in_word = true;
        break;
    }
    if (!ok) {
        unexpected(s, c);
        return;
    }
    g_string_append_c(s->buf, c);
}

static void string_byte(JsonStream *s, uint8_t c)
{
    if (c < 0x20) {
        fail(s, SKIP_TO_LINE_OR_BRACE,
             "JSON parse error, control character 0x%02x in a string", c);
        return;
    }
    g_string_append_c(s->buf, c);
    if (s->escape) {
        s->escape = false;
    } else if (c == '\\') {
        s->escape = true;
    } else if (c == '"') {
        s->in_string = false;
        if (s->string_is_key) {
            s->expect = EXPECT_COLON;
        } else {
            value_done(s);
        }
    }
}

static void feed_byte(JsonStream *s, uint8_t c)
{
    if (s->skip) {
        if (c == '\n') {
            s->skip = SKIP_NONE;
        } else if (c == '{' && s->skip == SKIP_TO_LINE_OR_BRACE) {
            s->skip = SKIP_NONE;
            structural(s, c);
        }
        return;
    }
    if (s->in_string) {
        string_byte(s, c);
    } else if (s->in_word) {
        if (is_word(c)) {
            g_string_append_c(s->buf, c);
        } else {
            s->in_word = false;
            value_done(s);
            structural(s, c);
        }
    } else {
        structural(s, c);
    }
    if (s->buf->len > s->max_size) {
        fail(s, SKIP_TO_LINE, "JSON message too long (over %zu bytes)",
             s->max_size);
    }
}

void json_stream_feed(JsonStream *s, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        feed_byte(s, buf[i]);
    }
}

/*
 * The HMP line editor: echo, cursor movement, deletion and a history, with
 * the keys and VT100/xterm escape sequences terminals send.  Output uses
 * plain ANSI sequences (erase to end of line, cursor left), so it works on
 * any terminal and reads sensibly in a log.
 *
 *   Left/Right, Ctrl-B/F  move        Home/End, Ctrl-E   line start/end
 *   Up/Down, Ctrl-P/N     history     Backspace, Delete, Ctrl-D
 *   Ctrl-K  erase to end  Ctrl-U  erase line   Ctrl-W  erase word
 *
 * (Ctrl-A is the mux escape under -nographic, so Home is the way there.)
 */
#include "monitor/monitor-internal.h"

enum { ESC_NONE, ESC_ESC, ESC_CSI, ESC_SS3 };

void readline_init(ReadLine *rl, const char *prompt,
                   void (*execute)(void *, const char *),
                   void (*write)(void *, const char *), void *opaque)
{
    memset(rl, 0, sizeof(*rl));
    rl->prompt = prompt;
    rl->execute = execute;
    rl->write = write;
    rl->opaque = opaque;
}

void readline_free(ReadLine *rl)
{
    for (int i = 0; i < rl->nr_history; i++) {
        g_free(rl->history[i]);
    }
    rl->nr_history = 0;
}

static void out(ReadLine *rl, const char *s)
{
    rl->write(rl->opaque, s);
}

void readline_restart(ReadLine *rl)
{
    rl->len = rl->pos = 0;
    rl->line[0] = 0;
    rl->esc = ESC_NONE;
    rl->history_pos = rl->nr_history;
}

void readline_show_prompt(ReadLine *rl)
{
    readline_restart(rl);
    out(rl, rl->prompt);
}

/* Redraw from the cursor to the end of the line, then put the cursor back. */
static void redraw_tail(ReadLine *rl)
{
    out(rl, rl->line + rl->pos);
    out(rl, "\033[K");
    if (rl->len > rl->pos) {
        char buf[16];
        snprintf(buf, sizeof(buf), "\033[%dD", rl->len - rl->pos);
        out(rl, buf);
    }
}

static void move_to(ReadLine *rl, int pos)
{
    char buf[16];
    if (pos < rl->pos) {
        snprintf(buf, sizeof(buf), "\033[%dD", rl->pos - pos);
        out(rl, buf);
    } else if (pos > rl->pos) {
        snprintf(buf, sizeof(buf), "\033[%dC", pos - rl->pos);
        out(rl, buf);
    }
    rl->pos = pos;
}

static void set_line(ReadLine *rl, const char *text)
{
    move_to(rl, 0);
    g_strlcpy(rl->line, text, sizeof(rl->line));
    rl->len = rl->pos = strlen(rl->line);
    out(rl, rl->line);
    out(rl, "\033[K");
}

static void insert_char(ReadLine *rl, char c)
{
    if (rl->len >= READLINE_MAX) {
        out(rl, "\a");
        return;
    }
    memmove(rl->line + rl->pos + 1, rl->line + rl->pos, rl->len - rl->pos + 1);
    rl->line[rl->pos] = c;
    rl->len++;
    if (rl->pos == rl->len - 1) {
        char echo[2] = { c, 0 };
        out(rl, echo);
        rl->pos++;
    } else {
        redraw_tail(rl);
        move_to(rl, rl->pos + 1);
    }
}

/* Delete n characters starting at the cursor. */
static void delete_chars(ReadLine *rl, int n)
{
    n = MIN(n, rl->len - rl->pos);
    if (n <= 0) {
        return;
    }
    memmove(rl->line + rl->pos, rl->line + rl->pos + n,
            rl->len - rl->pos - n + 1);
    rl->len -= n;
    redraw_tail(rl);
}

static void backspace(ReadLine *rl)
{
    if (rl->pos > 0) {
        move_to(rl, rl->pos - 1);
        delete_chars(rl, 1);
    }
}

static void erase_word(ReadLine *rl)
{
    int start = rl->pos;
    while (start > 0 && rl->line[start - 1] == ' ') {
        start--;
    }
    while (start > 0 && rl->line[start - 1] != ' ') {
        start--;
    }
    int n = rl->pos - start;
    move_to(rl, start);
    delete_chars(rl, n);
}

static void history_add(ReadLine *rl, const char *line)
{
    if (!*line || (rl->nr_history &&
                   !strcmp(rl->history[rl->nr_history - 1], line))) {
        return;
    }
    if (rl->nr_history == READLINE_HISTORY) {
        g_free(rl->history[0]);
        memmove(rl->history, rl->history + 1,
                (READLINE_HISTORY - 1) * sizeof(rl->history[0]));
        rl->nr_history--;
    }
    rl->history[rl->nr_history++] = g_strdup(line);
}

static void history_move(ReadLine *rl, int delta)
{
    int pos = rl->history_pos + delta;
    if (pos < 0 || pos > rl->nr_history) {
        return;
    }
    rl->history_pos = pos;
    set_line(rl, pos == rl->nr_history ? "" : rl->history[pos]);
}

static void enter(ReadLine *rl)
{
    char *line = g_strdup(rl->line);
    out(rl, "\r\n");
    history_add(rl, line);
    readline_restart(rl);
    rl->execute(rl->opaque, line);    /* prints the next prompt */
    g_free(line);
}

/* The final byte of ESC [ ... or ESC O ... */
static void escape_sequence(ReadLine *rl, uint8_t c)
{
    switch (c) {
    case 'A': history_move(rl, -1); break;
    case 'B': history_move(rl, 1); break;
    case 'C': move_to(rl, MIN(rl->pos + 1, rl->len)); break;
    case 'D': move_to(rl, MAX(rl->pos - 1, 0)); break;
    case 'H': move_to(rl, 0); break;
    case 'F': move_to(rl, rl->len); break;
    case '~':
        switch (rl->esc_param) {
        case 1: case 7: move_to(rl, 0); break;
        case 4: case 8: move_to(rl, rl->len); break;
        case 3: delete_chars(rl, 1); break;
        }
        break;
    }
}

void readline_feed(ReadLine *rl, uint8_t c)
{
    bool after_cr = rl->after_cr;
    rl->after_cr = false;

    switch (rl->esc) {
    case ESC_ESC:
        rl->esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
        rl->esc_param = 0;
        return;
    case ESC_CSI:
        if (c >= '0' && c <= '9') {
            rl->esc_param = MIN(rl->esc_param * 10 + (c - '0'), 1000);
            return;
        }
        if (c == ';') {
            return;
        }
        rl->esc = ESC_NONE;
        escape_sequence(rl, c);
        return;
    case ESC_SS3:
        rl->esc = ESC_NONE;
        escape_sequence(rl, c);
        return;
    }

    switch (c) {
    case 27:
        rl->esc = ESC_ESC;
        break;
    case '\r':
        rl->after_cr = true;
        enter(rl);
        break;
    case '\n':
        if (!after_cr) {
            enter(rl);
        }
        break;
    case 127:
    case 8:
        backspace(rl);
        break;
    case 2:  move_to(rl, MAX(rl->pos - 1, 0)); break;        /* Ctrl-B */
    case 6:  move_to(rl, MIN(rl->pos + 1, rl->len)); break;  /* Ctrl-F */
    case 5:  move_to(rl, rl->len); break;                    /* Ctrl-E */
    case 4:  delete_chars(rl, 1); break;                     /* Ctrl-D */
    case 11: delete_chars(rl, rl->len - rl->pos); break;     /* Ctrl-K */
    case 16: history_move(rl, -1); break;                    /* Ctrl-P */
    case 14: history_move(rl, 1); break;                     /* Ctrl-N */
    case 21:                                                 /* Ctrl-U */
        move_to(rl, 0);
        delete_chars(rl, rl->len);
        break;
    case 23:                                                 /* Ctrl-W */
        erase_word(rl);
        break;
    default:
        if (c >= 32 && c != 127) {
            insert_char(rl, c);
        }
        break;
    }
}

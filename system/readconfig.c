/*
 * -readconfig FILE: QEMU's configuration file, read as the command-line
 * options it stands for.  The format:
 *
 *   # a comment
 *   [memory]
 *     size = "512"
 *   [drive "disk0"]
 *     file = "disk.qcow2"
 *     if = "none"
 *
 * Each section becomes one option at the place of -readconfig ("-m
 * size=512", "-drive id=disk0,file=disk.qcow2,if=none"), which the usual
 * parser then checks, so a bad key or value is reported as for the option,
 * with the section's FILE:LINE in front.
 */
#include "system/readconfig.h"

typedef struct ConfigGroup {
    const char *name;         /* [name] */
    const char *option;       /* the option the section stands for */
    bool has_id;              /* [name "ID"] is id=ID */
} ConfigGroup;

/* [global] is special: driver, property and value make DRIVER.PROP=VALUE. */
static const ConfigGroup groups[] = {
    { "accel", "accel", false },
    { "boot-opts", "boot", false },
    { "chardev", "chardev", true },
    { "device", "device", true },
    { "drive", "drive", true },
    { "global", "global", false },
    { "machine", "machine", false },
    { "memory", "m", false },
    { "mon", "mon", true },
    { "name", "name", false },
    { "object", "object", true },
    { "rtc", "rtc", false },
    { "smp-opts", "smp", false },
};

typedef struct Section {
    const ConfigGroup *group;
    char *where;              /* FILE:LINE of its [header] */
    char *id;
    GPtrArray *keys, *values;
} Section;

static bool is_name_char(char c)
{
    return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
}

static const ConfigGroup *find_group(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
        if (!strcmp(groups[i].name, name)) {
            return &groups[i];
        }
    }
    return NULL;
}

/* Append value to s with commas doubled, as option strings escape them. */
static void append_escaped(GString *s, const char *value)
{
    for (const char *p = value; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == ',') {
            g_string_append_c(s, ',');
        }
    }
}

static const char *section_get(Section *sec, const char *key)
{
    const char *v = NULL;
    for (guint i = 0; i < sec->keys->len; i++) {
        if (!strcmp(g_ptr_array_index(sec->keys, i), key)) {
            v = g_ptr_array_index(sec->values, i);
        }
    }
    return v;
}

/* The option a finished section stands for (*opt NULL if it is empty). */
static bool section_option(Section *sec, char **opt, Error **errp)
{
    GString *s = g_string_new(NULL);

    *opt = NULL;
    if (!strcmp(sec->group->name, "global")) {
        const char *driver = section_get(sec, "driver");
        const char *prop = section_get(sec, "property");
        const char *value = section_get(sec, "value");
        for (guint i = 0; i < sec->keys->len; i++) {
            const char *k = g_ptr_array_index(sec->keys, i);
            if (strcmp(k, "driver") && strcmp(k, "property") &&
                strcmp(k, "value")) {
                g_string_free(s, true);
                return error_fail(errp, "%s: [global]: invalid key '%s' "
                                  "(driver, property, value)", sec->where, k);
            }
        }
        if (!driver || !prop || !value) {
            g_string_free(s, true);
            return error_fail(errp, "%s: [global] needs driver, property "
                              "and value", sec->where);
        }
        g_string_printf(s, "%s.%s=%s", driver, prop, value);
        *opt = g_string_free(s, false);
        return true;
    }
    if (sec->id) {
        g_string_append(s, "id=");
        append_escaped(s, sec->id);
    }
    for (guint i = 0; i < sec->keys->len; i++) {
        const char *k = g_ptr_array_index(sec->keys, i);
        if (sec->id && !strcmp(k, "id")) {
            g_string_free(s, true);
            return error_fail(errp, "%s: [%s \"%s\"]: the id is given twice",
                              sec->where, sec->group->name, sec->id);
        }
        g_string_append_printf(s, "%s%s=", s->len ? "," : "", k);
        append_escaped(s, g_ptr_array_index(sec->values, i));
    }
    *opt = g_string_free(s, !s->len);
    return true;
}

static void section_free(Section *sec)
{
    if (sec) {
        g_free(sec->where);
        g_free(sec->id);
        g_ptr_array_free(sec->keys, true);
        g_ptr_array_free(sec->values, true);
        g_free(sec);
    }
}

/* Ends sec: its option goes to args. */
static bool section_end(Section *sec, GPtrArray *args, GPtrArray *where,
                        Error **errp)
{
    char *opt;
    if (!section_option(sec, &opt, errp)) {
        return false;
    }
    if (!opt) {
        return true;            /* an empty section: no option */
    }
    g_ptr_array_add(args, g_strconcat("-", sec->group->option, NULL));
    g_ptr_array_add(args, opt);
    g_ptr_array_add(where, g_strdup(sec->where));
    g_ptr_array_add(where, g_strdup(sec->where));
    return true;
}

/* "[name]" or "[name "id"]"; line is trimmed. */
static Section *parse_header(char *line, const char *where, Error **errp)
{
    char *p = line + 1, *name = p, *id = NULL;
    while (is_name_char(*p)) {
        p++;
    }
    char *name_end = p;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '"') {
        id = ++p;
        p = strchr(p, '"');
        if (!p) {
            error_setg(errp, "%s: unterminated id in '%s'", where, line);
            return NULL;
        }
        *p++ = 0;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
    }
    if (name_end == name || *p != ']' || p[1]) {
        error_setg(errp, "%s: expected [group] or [group \"id\"], got '%s'",
                   where, line);
        return NULL;
    }
    *name_end = 0;
    const ConfigGroup *g = find_group(name);
    if (!g) {
        GString *known = g_string_new(NULL);
        for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
            g_string_append_printf(known, "%s%s", i ? ", " : "",
                                   groups[i].name);
        }
        error_setg(errp, "%s: there is no option group '%s' (known: %s)",
                   where, name, known->str);
        g_string_free(known, true);
        return NULL;
    }
    if (id && !g->has_id) {
        error_setg(errp, "%s: [%s] takes no id", where, name);
        return NULL;
    }
    Section *sec = g_new0(Section, 1);
    sec->group = g;
    sec->where = g_strdup(where);
    sec->id = g_strdup(id);
    sec->keys = g_ptr_array_new_with_free_func(g_free);
    sec->values = g_ptr_array_new_with_free_func(g_free);
    return sec;
}

/* key = "value"; line is trimmed. */
static bool parse_assignment(Section *sec, char *line, const char *where,
                             Error **errp)
{
    char *p = line;
    while (is_name_char(*p)) {
        p++;
    }
    char *key_end = p;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (key_end == line || *p != '=') {
        return error_fail(errp, "%s: expected key = \"value\", got '%s'",
                          where, line);
    }
    p++;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
    if (!end || end[1]) {
        return error_fail(errp, "%s: the value must be in double quotes "
                          "(key = \"value\"), got '%s'", where, line);
    }
    if (!sec) {
        return error_fail(errp, "%s: '%s' comes before any [group]", where,
                          line);
    }
    *key_end = 0;
    *end = 0;
    g_ptr_array_add(sec->keys, g_strdup(line));
    g_ptr_array_add(sec->values, g_strdup(p + 1));
    return true;
}

bool readconfig_read(const char *path, GPtrArray *args, GPtrArray *where,
                     Error **errp)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *text = NULL;
    Section *sec = NULL;
    bool ok = true;
    gsize len;

    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        return error_fail(errp, "-readconfig %s: %s", path, gerr->message);
    }
    if (strlen(text) != len) {
        return error_fail(errp, "-readconfig %s: not a text file (it holds "
                          "a NUL byte)", path);
    }
    char **lines = g_strsplit(text, "\n", -1);
    for (unsigned n = 0; ok && lines[n]; n++) {
        char *line = g_strstrip(lines[n]);
        g_autofree char *loc = g_strdup_printf("%s:%u", path, n + 1);
        if (!*line || *line == '#') {
            continue;
        }
        if (*line == '[') {
            ok = !sec || section_end(sec, args, where, errp);
            section_free(sec);
            sec = ok ? parse_header(line, loc, errp) : NULL;
            ok = sec != NULL;
        } else {
            ok = parse_assignment(sec, line, loc, errp);
        }
    }
    if (ok && sec) {
        ok = section_end(sec, args, where, errp);
    }
    section_free(sec);
    g_strfreev(lines);
    return ok;
}
